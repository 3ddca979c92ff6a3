package dev.editforge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigRedactorTest {
  @Test
  void credentialKeysOfHadoopsConnectorsAndOurOwnAreSecret() {
    for (String key :
        List.of(
            "spark.hadoop.fs.s3a.access.key",
            "spark.hadoop.fs.s3a.secret.key",
            "spark.hadoop.fs.s3a.session.token",
            "fs.s3a.bucket.logs.secret.key",
            "fs.s3a.encryption.key",
            "editforge.spark.conf.\"spark.hadoop.fs.azure.account.key.acct.blob.core.windows.net\"",
            "fs.azure.account.key.acct.dfs.core.windows.net",
            "fs.azure.sas.container.acct.blob.core.windows.net",
            "fs.azure.sas.fixed.token",
            "fs.azure.account.oauth2.client.secret",
            "fs.gs.auth.service.account.private.key",
            "fs.gs.auth.service.account.private.key.id",
            "spark.ssl.keyStorePassword",
            "spark.authenticate.secret",
            "spark.executorEnv.HF_TOKEN",
            "db.password",
            "editforge.remote.api-key",
            "editforge.remote.apiKey",
            "editforge.remote.api_key",
            "gcp.credentials",
            "token")) {
      assertTrue(ConfigRedactor.isSecret(key), key);
    }
  }

  @Test
  void countsAndNamesOfSecretSourcesAreShown() {
    for (String key :
        List.of(
            "editforge.generate.self-edit.max-new-tokens",
            "editforge.embed.max-batch-tokens",
            "editforge.llm.tokenizer",
            "editforge.remote.api-key-env",
            "fs.s3a.aws.credentials.provider",
            "fs.azure.sas.token.provider.type",
            "fs.azure.account.auth.type",
            "editforge.spark.conf.\"spark.executor.memory\"")) {
      assertFalse(ConfigRedactor.isSecret(key), key);
    }
  }

  @Test
  void noDefaultSettingIsHidden() throws Exception {
    // Every key of reference.conf + local.conf is an ordinary setting; hiding one (as the old
    // "contains token" rule hid max-new-tokens) makes the run record unable to reproduce the run.
    try (AutoCloseable env = ConfigRedactor.useEnvironmentForTests(Map.of())) {
      Map<String, Object> flat = ConfigRedactor.flat(ConfigLoader.load(null, List.of()));
      assertTrue(flat.size() > 100, "the whole editforge tree: " + flat.size());
      List<String> hidden =
          flat.entrySet().stream()
              .filter(e -> ConfigRedactor.MASK.equals(e.getValue()))
              .map(Map.Entry::getKey)
              .toList();
      assertEquals(List.of(), hidden);
      assertTrue(
          flat.get("editforge.generate.self-edit.max-new-tokens") instanceof Integer,
          "max-new-tokens is shown: " + flat.get("editforge.generate.self-edit.max-new-tokens"));
    }
  }

  @Test
  void valuesFromTheEnvironmentAreHiddenUnderAnyKey() throws Exception {
    Config c =
        ConfigFactory.parseString(
            "editforge { remote.api-key-env = MY_KEY,"
                + " spark.conf { \"spark.executorEnv.A\" = \"sk-from-my-key-var\","
                + " \"spark.executorEnv.B\" = \"Bearer hf_0123456789abcdef\","
                + " \"spark.executorEnv.C\" = \"sk-openai-secret-1\" },"
                + " ingest.inputs = [\"squad:a.json\", \"dpr:s3a://u:hf_0123456789abcdef@b/x\"],"
                + " generate.model = \"Qwen/Qwen2.5-0.5B\", short = EMPTY, longer = NOTEMPTY }");
    try (AutoCloseable env =
        ConfigRedactor.useEnvironmentForTests(
            Map.of(
                "MY_KEY", "sk-from-my-key-var",
                "HF_TOKEN", "hf_0123456789abcdef",
                "OPENAI_API_KEY", "sk-openai-secret-1",
                "HUGGING_FACE_HUB_TOKEN", "EMPTY"))) {
      Map<String, Object> flat = ConfigRedactor.flat(c);
      assertEquals("***", flat.get("editforge.spark.conf.\"spark.executorEnv.A\""));
      assertEquals("***", flat.get("editforge.spark.conf.\"spark.executorEnv.B\""));
      assertEquals("***", flat.get("editforge.spark.conf.\"spark.executorEnv.C\""));
      assertEquals(List.of("squad:a.json", "***"), flat.get("editforge.ingest.inputs"));
      assertEquals("MY_KEY", flat.get("editforge.remote.api-key-env"));
      assertEquals("Qwen/Qwen2.5-0.5B", flat.get("editforge.generate.model"));
      assertEquals("***", flat.get("editforge.short"), "a short secret is hidden when whole");
      assertEquals("NOTEMPTY", flat.get("editforge.longer"), "but not inside another word");
      String rendered = ConfigRedactor.render(c);
      assertFalse(rendered.contains("hf_0123456789abcdef"), rendered);
      assertEquals(
          "failed: *** rejected", ConfigRedactor.scrub("failed: sk-openai-secret-1 rejected", c));
    }
  }
}
