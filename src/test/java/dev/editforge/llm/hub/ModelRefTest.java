package dev.editforge.llm.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRefTest {
  @TempDir Path tmp;

  @Test
  void hubIdsTakeAnOptionalRevisionDefaultingToMain() {
    ModelRef.HubRepo r = (ModelRef.HubRepo) ModelRef.parse("Qwen/Qwen2.5-0.5B-Instruct");
    assertEquals("Qwen/Qwen2.5-0.5B-Instruct", r.repoId());
    assertEquals("main", r.revision());
    assertEquals("models--Qwen--Qwen2.5-0.5B-Instruct", r.cacheFolderName());
    assertFalse(r.isCommit());

    ModelRef.HubRepo pinned =
        (ModelRef.HubRepo)
            ModelRef.parse("meta-llama/Llama-3.2-1B@" + "0123456789abcdef".repeat(2) + "01234567");
    assertTrue(pinned.isCommit());
    assertEquals("refs/pr/3", ((ModelRef.HubRepo) ModelRef.parse("a/b@refs/pr/3")).revision());
  }

  @Test
  void pathsThatLookLikePathsOrExistAreLocalDirectories() throws Exception {
    assertInstanceOf(ModelRef.LocalDir.class, ModelRef.parse("/models/x"));
    assertInstanceOf(ModelRef.LocalDir.class, ModelRef.parse("./x"));
    assertInstanceOf(ModelRef.LocalDir.class, ModelRef.parse("../x/y"));
    // An existing directory wins over the hub reading of the same string.
    Path dir = Files.createDirectories(tmp.resolve("org/name"));
    assertEquals(dir, ((ModelRef.LocalDir) ModelRef.parse(dir.toString())).dir());
  }

  @Test
  void malformedReferencesSayWhatIsExpected() {
    for (String bad :
        new String[] {
          "",
          "gpt2",
          "a/b/c",
          "a//b",
          "org/-name",
          "org/na--me",
          "org/na..me",
          "org/name@",
          "org/name@a..b",
          "org/name@has space",
          "org/" + "x".repeat(100)
        }) {
      HubException e = assertThrows(HubException.class, () -> ModelRef.parse(bad), bad);
      assertEquals(HubException.Kind.INVALID_REFERENCE, e.kind(), bad);
      assertTrue(e.getMessage().contains("Org/Name[@revision]"), e.getMessage());
    }
  }

  @Test
  void settingsFollowHuggingFaceEnvironmentPrecedence() {
    Path home = Path.of("/home/u");
    assertEquals(
        Path.of("/home/u/.cache/huggingface/hub"), HubSettings.fromEnv(Map.of(), home).cacheDir());
    assertEquals(
        Path.of("/hf/hub"), HubSettings.fromEnv(Map.of("HF_HOME", "/hf"), home).cacheDir());
    assertEquals(
        Path.of("/c"),
        HubSettings.fromEnv(Map.of("HF_HOME", "/hf", "HF_HUB_CACHE", "/c"), home).cacheDir());
    HubSettings s =
        HubSettings.fromEnv(
            Map.of(
                "HUGGING_FACE_HUB_TOKEN",
                "old",
                "HF_HUB_OFFLINE",
                "1",
                "HF_ENDPOINT",
                "http://mirror:8080/"),
            home);
    assertEquals("old", s.token());
    assertTrue(s.offline());
    assertEquals("http://mirror:8080", s.endpoint().toString());
    assertEquals(
        "new",
        HubSettings.fromEnv(Map.of("HUGGING_FACE_HUB_TOKEN", "old", "HF_TOKEN", "new"), home)
            .token());
    assertEquals(
        "https://huggingface.co", HubSettings.fromEnv(Map.of(), home).endpoint().toString());
    assertFalse(s.toString().contains("old"));
  }

  @Test
  void etagsAreNormalizedAndFileNamesEncoded() {
    assertEquals("abc", HubClient.normalizeEtag("W/\"abc\""));
    assertEquals("abc", HubClient.normalizeEtag("\"abc\""));
    assertEquals("sub/a%20b.json", HubClient.encode("sub/a b.json", true));
    assertEquals("refs%2Fpr%2F1", HubClient.encode("refs/pr/1", false));
  }

  @Test
  void cacheRefusesServerNamesThatEscapeTheSnapshot() {
    HubCache cache = new HubCache(tmp);
    ModelRef.HubRepo repo = new ModelRef.HubRepo("a/b", "main");
    String sha = "c".repeat(40);
    assertEquals(
        HubException.Kind.IO,
        assertThrows(HubException.class, () -> cache.pointer(repo, sha, "../../x")).kind());
    assertThrows(HubException.class, () -> cache.pointer(repo, sha, "/etc/passwd"));
    assertThrows(HubException.class, () -> cache.blob(repo, "../x"));
    assertEquals(
        tmp.resolve("models--a--b/snapshots/" + sha + "/sub/f.json"),
        cache.pointer(repo, sha, "sub/f.json"));
  }
}
