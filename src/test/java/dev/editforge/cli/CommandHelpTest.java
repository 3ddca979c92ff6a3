package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.Main;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.UsageMessageSpec;

/** Issue 15.4: every command documents itself; the list comes from picocli's model of Main. */
class CommandHelpTest {
  @Test
  void everyCommandTakesHelpHasAWholeSentenceSummaryAndEndsWithAnExample() {
    Map<String, CommandLine> commands = Main.commandLine(System.out).getSubcommands();
    assertTrue(commands.size() > 15, commands.keySet().toString());
    for (Map.Entry<String, CommandLine> c : commands.entrySet()) {
      String name = c.getKey();
      UsageMessageSpec usage = c.getValue().getCommandSpec().usageMessage();
      // `editforge help` lists a command by its first header or description line.
      String summary = usage.header().length > 0 ? usage.header()[0] : usage.description()[0];
      assertTrue(
          summary.endsWith(".") && Character.isUpperCase(summary.charAt(0)),
          name + "'s summary is not a whole sentence: " + summary);
      String footer = String.join("\n", usage.footer());
      assertTrue(footer.contains("editforge " + name), name + " has no example: " + footer);
      for (String flag : new String[] {"--help", "-h"}) {
        CliRun r = CliRun.of(name, flag);
        assertEquals(0, r.exitCode(), name + " " + flag + ": " + r);
        assertTrue(r.out().contains("Usage: editforge " + name), r.out());
        assertTrue(
            r.out()
                .stripTrailing()
                .endsWith(footer.lines().reduce((a, b) -> b).orElseThrow().strip()),
            name + " " + flag + " should end with its example:\n" + r.out());
      }
    }
  }

  @Test
  void theCommandListShowsEachSummaryWhole() {
    CliRun r = CliRun.of("help");
    assertEquals(0, r.exitCode(), r.toString());
    for (CommandLine c : Main.commandLine(System.out).getSubcommands().values()) {
      UsageMessageSpec usage = c.getCommandSpec().usageMessage();
      String summary = usage.header().length > 0 ? usage.header()[0] : usage.description()[0];
      String listed = r.out().replaceAll("\\s+", " ");
      assertTrue(listed.contains(summary.replaceAll("\\s+", " ")), summary + "\n" + r.out());
    }
  }
}
