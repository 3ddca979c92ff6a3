package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.io.Manifest;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The demo probes identity only when select mixed identity rows into the sft table. */
class DemoIdentityProbeTest {
  static Optional<Manifest> sft(long selfCognition) throws Exception {
    return Optional.of(
        Manifest.parse(
            "{\"stage\":\"select\",\"table\":\"sft\",\"status\":\"completed\",\"counts\":"
                + "{\"output\":10,\"self_cognition\":"
                + selfCognition
                + "}}"));
  }

  @Test
  void probesOnlyWhenIdentityRowsWereMixedIn() throws Exception {
    assertTrue(DemoCommand.identityRowsMixedIn(sft(4)));
    assertFalse(DemoCommand.identityRowsMixedIn(sft(0)));
    assertFalse(DemoCommand.identityRowsMixedIn(Optional.empty()));
  }
}
