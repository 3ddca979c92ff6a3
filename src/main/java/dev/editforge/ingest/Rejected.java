package dev.editforge.ingest;

/** Thrown inside a parser to refuse the current record; caught by the parser's driver loop. */
final class Rejected extends Exception {
  final RejectReason reason;

  Rejected(String category, String message) {
    super(message, null, false, false);
    this.reason = RejectReason.of(category, message);
  }

  Rejected(RejectReason reason) {
    super(reason.message(), null, false, false);
    this.reason = reason;
  }
}
