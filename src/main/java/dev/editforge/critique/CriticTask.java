package dev.editforge.critique;

import dev.editforge.io.Ids;
import dev.editforge.selfrag.CriticPrompts;
import dev.editforge.selfrag.CriticType;
import java.io.Serializable;

/**
 * One question to the critic: the type, what it is about (instruction, sentence, passage) and the
 * rendered prompt. {@code labelId} identifies the question (type, judge, template, prompt,
 * position), so a row kept from an earlier run is exactly what this run would ask.
 */
record CriticTask(
    String labelId,
    String type,
    String instructionId,
    Integer sentIdx,
    Integer pIdx,
    String passageId,
    String template,
    String prompt)
    implements Serializable {

  static CriticTask of(
      CriticType type,
      String model,
      String instructionId,
      Integer sentIdx,
      Integer pIdx,
      String passageId,
      CriticPrompts.Rendered rendered) {
    return new CriticTask(
        Ids.of(
            "critic",
            type.wireName(),
            model,
            rendered.template(),
            rendered.prompt(),
            instructionId,
            String.valueOf(sentIdx),
            String.valueOf(pIdx)),
        type.wireName(),
        instructionId,
        sentIdx,
        pIdx,
        passageId,
        rendered.template(),
        rendered.prompt());
  }
}
