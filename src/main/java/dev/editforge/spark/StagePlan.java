package dev.editforge.spark;

import java.util.ArrayList;
import java.util.List;

/**
 * What a stage will produce in this run: its outputs in order, and notes for the console — why a
 * part has nothing to do (no model configured, no queries, ...). A plan without outputs is a normal
 * outcome: exit 0, with the notes printed.
 */
public record StagePlan(List<StageOutput> outputs, List<String> notes) {
  public StagePlan {
    outputs = List.copyOf(outputs);
    notes = List.copyOf(notes);
  }

  public static StagePlan of(StageOutput... outputs) {
    return new StagePlan(List.of(outputs), List.of());
  }

  public static StagePlan of(List<StageOutput> outputs) {
    return new StagePlan(outputs, List.of());
  }

  public static StagePlan nothingToDo(String why) {
    return new StagePlan(List.of(), List.of(why));
  }

  public boolean isNothingToDo() {
    return outputs.isEmpty();
  }

  /** This plan's outputs and notes followed by {@code next}'s. */
  public StagePlan then(StagePlan next) {
    List<StageOutput> all = new ArrayList<>(outputs);
    all.addAll(next.outputs);
    List<String> allNotes = new ArrayList<>(notes);
    allNotes.addAll(next.notes);
    return new StagePlan(all, allNotes);
  }
}
