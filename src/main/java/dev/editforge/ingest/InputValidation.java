package dev.editforge.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.RunDir;
import dev.editforge.text.Json;
import dev.editforge.text.SafeText;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Whole-file checks on the driver before any Spark work, reading at most the first 64 KiB of each
 * file (decompressed, for {@code .gz} / {@code .bz2}): it exists, it is a regular file, it is
 * readable, and it is the declared format at all. A directory stands for the (non-hidden) files in
 * it; a sub-directory there is refused rather than skipped, so nothing is left out silently.
 * Failures are {@link InputException}s (exit 2); anything they quote from a file is escaped and cut
 * ({@link SafeText}).
 */
public final class InputValidation {
  private static final int HEAD_BYTES = 64 * 1024;
  private static final ObjectMapper MAPPER = Json.COMPACT;

  private InputValidation() {}

  public static List<ResolvedInput> resolve(List<InputSpec> specs, Configuration conf) {
    List<ResolvedInput> out = new ArrayList<>();
    for (InputSpec spec : specs) {
      Path path = RunDir.qualify(spec.path());
      FileSystem fs;
      FileStatus status;
      try {
        fs = path.getFileSystem(conf);
        status = fs.getFileStatus(path);
      } catch (FileNotFoundException e) {
        throw new InputException("input " + spec + ": " + spec.path() + " does not exist");
      } catch (IOException e) {
        throw new InputException(
            "input " + spec + ": cannot access " + spec.path() + ": " + e.getMessage(), e);
      }
      InputFiles.requireRegular(fs, path, spec.toString());
      List<FileStatus> files = new ArrayList<>();
      if (status.isDirectory()) {
        try {
          for (FileStatus f : fs.listStatus(path)) {
            String name = f.getPath().getName();
            if (name.startsWith(".") || name.startsWith("_")) {
              continue;
            }
            if (f.isDirectory()) {
              throw new InputException(
                  "input "
                      + spec
                      + ": "
                      + f.getPath()
                      + " is a directory; ingest reads the files of an input directory, not its"
                      + " sub-directories (give it as its own --input)");
            }
            InputFiles.requireRegular(fs, f.getPath(), spec.toString());
            files.add(f);
          }
          files.sort(Comparator.comparing(f -> f.getPath().getName()));
        } catch (IOException e) {
          throw new InputException(
              "input " + spec + ": cannot list " + spec.path() + ": " + e.getMessage(), e);
        }
        if (files.isEmpty()) {
          throw new InputException(
              "input " + spec + ": directory " + spec.path() + " holds no files");
        }
      } else {
        files.add(status);
      }
      for (FileStatus f : files) {
        Head head = head(fs, f.getPath(), spec, conf);
        checkFormat(spec.kind(), head.text, f.getPath().toString(), head.truncated);
        out.add(
            new ResolvedInput(
                spec.kind(),
                spec.toString(),
                f.getPath().toString(),
                f.getLen(),
                Fingerprints.ofFile(fs, f.getPath())));
      }
    }
    return out;
  }

  /** The first {@link #HEAD_BYTES} of the (decompressed) text, and whether more follows. */
  private record Head(String text, boolean truncated) {}

  private static Head head(FileSystem fs, Path p, InputSpec spec, Configuration conf) {
    try (InputStream in = InputFiles.open(fs, p, conf)) {
      byte[] buf = in.readNBytes(HEAD_BYTES);
      boolean more = buf.length == HEAD_BYTES && in.read() != -1;
      return new Head(new String(buf, StandardCharsets.UTF_8), more);
    } catch (IOException | RuntimeException e) {
      // A corrupt archive (or a codec without its native library) fails here, before any task.
      throw new InputException(
          "input "
              + spec
              + ": cannot read "
              + p
              + (InputFiles.codec(p, conf) == null ? "" : " (compressed)")
              + ": "
              + SafeText.quote(String.valueOf(e.getMessage())),
          e);
    }
  }

  /** Is this plausibly the declared format? Only whole-file problems fail here. */
  static void checkFormat(InputKind kind, String head, String file, boolean truncated) {
    String trimmed = head.stripLeading();
    if (trimmed.startsWith("\uFEFF")) {
      trimmed = trimmed.substring(1).stripLeading();
    }
    if (trimmed.isEmpty()) {
      throw new InputException(file + " is empty: nothing to ingest as " + kind.cliName());
    }
    switch (kind) {
      case SQUAD -> {
        if (trimmed.charAt(0) != '[' && trimmed.charAt(0) != '{') {
          throw new InputException(
              file + " is not a SQuAD file: it does not start with a JSON list or object");
        }
      }
      case DPR -> {
        String first = trimmed.lines().findFirst().orElse("").replace("\r", "");
        if (!first.equals(DprLineParser.HEADER)) {
          throw new InputException(
              file
                  + " is not a DPR passages TSV: the first line must be the header "
                  + "\"id<TAB>text<TAB>title\", found \""
                  + SafeText.quote(first, 80)
                  + "\""
                  + (looksBinary(first)
                      ? " (binary data: a compressed file needs a .gz or .bz2 name)"
                      : ""));
        }
      }
      default -> {
        List<String> lines = trimmed.lines().filter(l -> !l.isBlank()).limit(20).toList();
        // The last line of a truncated head may be cut mid-record: judge only complete lines.
        if (truncated && lines.size() > 1) {
          lines = lines.subList(0, lines.size() - 1);
        }
        boolean anyObject = false;
        for (String line : lines) {
          try {
            JsonNode n = MAPPER.readTree(line);
            anyObject |= n != null && n.isObject();
          } catch (IOException e) {
            // one bad line is a reject, not a whole-file problem
          }
        }
        if (!anyObject && !(truncated && lines.size() <= 1)) {
          throw new InputException(
              file
                  + " is not JSON lines: none of its first "
                  + lines.size()
                  + " lines is a JSON object ("
                  + kind.cliName()
                  + " expects one object per line)");
        }
      }
    }
  }

  /** Replacement characters or NULs in the head: the bytes are not text at all. */
  private static boolean looksBinary(String s) {
    return s.indexOf('\uFFFD') >= 0 || s.indexOf('\u0000') >= 0;
  }
}
