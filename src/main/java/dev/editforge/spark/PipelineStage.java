package dev.editforge.spark;

import java.util.List;

/**
 * A stage: a name, the tables it reads, and its plan — the outputs it will write, each with what
 * its fingerprint is made of and the computation that writes it. Everything around the computation
 * (input checks, skip when up to date, staging, commit, manifest, run record, console line, exit
 * code) is the {@link StageRunner}'s, so a stage never does it by hand.
 */
public interface PipelineStage {
  String name();

  /**
   * Tables this stage always reads. When one is absent the stage has nothing to do (in {@code
   * editforge run} it is passed over); when one exists but did not complete the runner refuses with
   * exit 2 and names the command that writes it.
   */
  default List<String> requires() {
    return List.of();
  }

  /**
   * Resolves settings and inputs and returns what to write. Planning is cheap (fingerprints, no
   * computation); it throws {@link dev.editforge.io.UnusableInputException} for an input that
   * cannot be used (exit 2). A table read only under some settings (e.g. the run's {@code sft}
   * unless another is configured) is checked here with {@link
   * dev.editforge.io.UnusableInputException#table}: absent, the runner treats it like an absent
   * {@link #requires()} table (exit 2 on its own, passed over in a pipeline), so check such tables
   * before anything that would fail for another reason.
   */
  StagePlan plan(StageContext context) throws Exception;
}
