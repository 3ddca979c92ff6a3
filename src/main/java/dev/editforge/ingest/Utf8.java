package dev.editforge.ingest;

import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8 decoding: invalid bytes are found, never silently replaced by U+FFFD. */
final class Utf8 {
  private Utf8() {}

  /** Decodes or throws; one decoder per call keeps it thread-safe. */
  static String decodeStrict(byte[] bytes, int offset, int length) throws CharacterCodingException {
    CharsetDecoder d =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    CharBuffer cb = d.decode(ByteBuffer.wrap(bytes, offset, length));
    return cb.toString();
  }

  /**
   * A reader for streamed JSON documents: invalid byte sequences become {@link
   * Fields#INVALID_UTF8_MARK}, so the record that holds them is rejected while the rest of the
   * document still parses.
   */
  static Reader markingReader(InputStream in) {
    CharsetDecoder d =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE)
            .replaceWith(String.valueOf(Fields.INVALID_UTF8_MARK));
    return new InputStreamReader(in, d);
  }
}
