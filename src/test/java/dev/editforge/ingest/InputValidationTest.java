package dev.editforge.ingest;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InputValidationTest {
  @TempDir Path dir;

  @Test
  void formatSniffing() {
    assertThrows(
        InputException.class,
        () -> InputValidation.checkFormat(InputKind.DPR, "a\tb\tc\n1\tx\ty", "f", false));
    assertDoesNotThrow(
        () -> InputValidation.checkFormat(InputKind.DPR, "id\ttext\ttitle\r\n1\tx\ty", "f", false));
    assertThrows(
        InputException.class,
        () -> InputValidation.checkFormat(InputKind.LOGIC, "hello\nworld\n", "f", false));
    assertDoesNotThrow(
        () -> InputValidation.checkFormat(InputKind.LOGIC, "not json\n{\"id\":1}\n", "f", false));
    assertThrows(
        InputException.class,
        () -> InputValidation.checkFormat(InputKind.SQUAD, "title,context", "f", false));
    InputException empty =
        assertThrows(
            InputException.class,
            () -> InputValidation.checkFormat(InputKind.SQUAD, "  \n", "f", false));
    assertTrue(empty.getMessage().contains("empty"));
  }

  @Test
  void missingFilesAndEmptyDirectoriesAreWholeFileErrors() throws Exception {
    InputException missing =
        assertThrows(
            InputException.class,
            () ->
                InputValidation.resolve(
                    List.of(InputSpec.parse("dpr:" + dir.resolve("nope.tsv"))),
                    new Configuration()));
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    Path empty = Files.createDirectory(dir.resolve("empty"));
    assertThrows(
        InputException.class,
        () ->
            InputValidation.resolve(List.of(InputSpec.parse("dpr:" + empty)), new Configuration()));
  }

  @Test
  void inputSpecs() {
    InputSpec s = InputSpec.parse("squad:hdfs://nn:8020/data/x.json");
    assertTrue(s.path().equals("hdfs://nn:8020/data/x.json"));
    InputException bad = assertThrows(InputException.class, () -> InputSpec.parse("csv:/tmp/x"));
    assertTrue(
        bad.getMessage().contains("squad, dpr, passages-jsonl, logic, instructions"),
        bad.getMessage());
    assertThrows(InputException.class, () -> InputSpec.parse("squad:"));
  }
}
