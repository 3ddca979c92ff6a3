package dev.editforge.llm;

import java.nio.file.Path;

/**
 * A model directory or weight file that cannot be loaded: missing, corrupt, of an unsupported
 * architecture or dtype, or a pickle checkpoint. The message always names the file and the problem
 * in one line, so the CLI can print it as is and exit non-zero.
 */
public final class ModelLoadException extends RuntimeException {
  private final transient Path file;

  public ModelLoadException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  public ModelLoadException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  /** The file or directory the problem was found in. */
  public Path file() {
    return file;
  }
}
