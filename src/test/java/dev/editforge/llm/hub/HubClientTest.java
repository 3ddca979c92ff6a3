package dev.editforge.llm.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubClientTest {
  static final String REPO = "tiny-org/tiny-llama";
  static final String SHA = "a".repeat(40);
  static final String OLD_SHA = "b".repeat(40);
  static final String TOKEN = "hf_secretTOKEN123";

  @TempDir Path tmp;
  FakeHub hub;
  final List<String> logs = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void start() throws IOException {
    hub = new FakeHub();
  }

  @AfterEach
  void stop() {
    hub.close();
  }

  static Map<String, byte[]> tinyModel(String flavour, int weightBytes) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("README.md", "# tiny".getBytes(StandardCharsets.UTF_8));
    files.put(
        "config.json",
        ("{\"model_type\":\"llama\",\"flavour\":\"" + flavour + "\"}")
            .getBytes(StandardCharsets.UTF_8));
    files.put("tokenizer.json", "{\"model\":{\"type\":\"BPE\"}}".getBytes(StandardCharsets.UTF_8));
    files.put("tokenizer_config.json", "{\"eos_token\":\"</s>\"}".getBytes(StandardCharsets.UTF_8));
    byte[] weights = new byte[weightBytes];
    new Random(flavour.hashCode()).nextBytes(weights);
    files.put("model.safetensors", weights);
    files.put("pytorch_model.bin", new byte[] {1, 2, 3});
    return files;
  }

  HubSettings settings(Duration readTimeout, int retries) {
    return HubSettings.fromEnv(
            Map.of(
                "HF_ENDPOINT",
                hub.endpoint().toString(),
                "HF_HUB_CACHE",
                tmp.resolve("hub").toString()),
            tmp)
        .withTiming(readTimeout, retries, Duration.ofMillis(5), Duration.ofMillis(50));
  }

  HubClient client(HubSettings s) {
    return new HubClient(s, logs::add);
  }

  Path repoDir() {
    return tmp.resolve("hub").resolve("models--tiny-org--tiny-llama");
  }

  @Test
  void downloadBuildsThePythonCacheLayoutWithRelativeSymlinks() throws IOException {
    Map<String, byte[]> files = tinyModel("v2", 200_000);
    hub.add(REPO, SHA, files, Set.of("model.safetensors"), "main");

    Path snapshot;
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      snapshot = c.resolve(REPO);
    }

    assertEquals(repoDir().resolve("snapshots").resolve(SHA), snapshot);
    assertEquals(
        SHA,
        Files.readString(repoDir().resolve("refs/main")),
        "refs/main holds the sha, no newline");
    String weightsSha = FakeHub.sha256(files.get("model.safetensors"));
    assertEquals(
        Path.of("../../blobs/" + weightsSha),
        Files.readSymbolicLink(snapshot.resolve("model.safetensors")),
        "an LFS file's blob is named by X-Linked-Etag (its sha256)");
    assertEquals(
        Path.of("../../blobs/" + FakeHub.gitSha1(files.get("config.json"))),
        Files.readSymbolicLink(snapshot.resolve("config.json")),
        "a git file's blob is named by its normalized ETag");
    for (String f :
        List.of("config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors")) {
      assertArrayEquals(files.get(f), Files.readAllBytes(snapshot.resolve(f)), f);
    }
    assertFalse(
        Files.exists(snapshot.resolve("pytorch_model.bin")), "pickle weights are never fetched");
    assertFalse(Files.exists(snapshot.resolve("README.md")), "only the files a model needs");
    try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
      assertTrue(blobs.noneMatch(p -> p.toString().endsWith(".incomplete")));
    }
    assertTrue(hub.seen("hub").stream().noneMatch(s -> s.path().endsWith(".bin")));
  }

  @Test
  void aCompleteCachedSnapshotIsUsedWithoutAnyRequest() {
    hub.add(REPO, SHA, tinyModel("v2", 1000), Set.of("model.safetensors"), "main");
    Path first;
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      first = c.resolve(REPO);
    }
    int before = hub.requests();
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      assertEquals(first, c.resolve(REPO + "@main"));
    }
    assertEquals(before, hub.requests());
  }

  @Test
  void offlineModeReadsTheCacheAndNamesTheRepoWhenItIsMissing() {
    hub.add(REPO, SHA, tinyModel("v2", 1000), Set.of("model.safetensors"), "main");
    HubSettings offline = settings(Duration.ofSeconds(5), 0).withOffline(true);
    try (HubClient c = client(offline)) {
      HubException e = assertThrows(HubException.class, () -> c.resolve(REPO));
      assertEquals(HubException.Kind.NOT_CACHED, e.kind());
      assertTrue(
          e.getMessage().contains(REPO) && e.getMessage().contains("HF_HUB_OFFLINE"),
          e.getMessage());
    }
    assertEquals(0, hub.requests(), "offline means no request at all");

    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      c.resolve(REPO);
    }
    int before = hub.requests();
    try (HubClient c = client(offline)) {
      assertEquals(repoDir().resolve("snapshots").resolve(SHA), c.resolve(REPO));
      HubException e = assertThrows(HubException.class, () -> c.resolve(REPO + "@v9"));
      assertTrue(e.getMessage().contains(REPO + "@v9"), e.getMessage());
    }
    assertEquals(before, hub.requests());
  }

  @Test
  void offlineModeReusesACacheWrittenByPython() throws IOException {
    // Built by hand the way huggingface_hub lays it out, with a nested file for good measure.
    Path repo = repoDir();
    Files.createDirectories(repo.resolve("blobs"));
    Files.createDirectories(repo.resolve("refs"));
    Files.writeString(repo.resolve("refs/main"), SHA);
    Files.writeString(repo.resolve("blobs/c1"), "{}");
    Files.writeString(repo.resolve("blobs/w1"), "weights");
    Path snap = Files.createDirectories(repo.resolve("snapshots").resolve(SHA));
    Files.createSymbolicLink(snap.resolve("config.json"), Path.of("../../blobs/c1"));
    Files.createSymbolicLink(snap.resolve("model.safetensors"), Path.of("../../blobs/w1"));
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0).withOffline(true))) {
      Path dir = c.resolve(REPO);
      assertEquals("weights", Files.readString(dir.resolve("model.safetensors")));
    }
  }

  @Test
  void unknownRepoAndUnknownRevisionAre404sThatSaySo() {
    hub.add(REPO, SHA, tinyModel("v2", 1000), Set.of("model.safetensors"), "main");
    try (HubClient c = client(settings(Duration.ofSeconds(5), 3))) {
      HubException e = assertThrows(HubException.class, () -> c.resolve("tiny-org/nope"));
      assertEquals(HubException.Kind.NOT_FOUND, e.kind());
      assertTrue(
          e.getMessage().contains("tiny-org/nope") && e.getMessage().contains("not found"),
          e.getMessage());
      HubException r = assertThrows(HubException.class, () -> c.resolve(REPO + "@v9"));
      assertTrue(r.getMessage().contains("revision v9"), r.getMessage());
    }
    assertEquals(2, hub.requests(), "a 404 is not retried");
    assertFalse(Files.exists(repoDir().resolve("refs/v9")));
  }

  @Test
  void gatedRepoAsksForHfTokenAndNeverRepeatsTheToken() {
    hub.add(REPO, SHA, tinyModel("v2", 5000), Set.of("model.safetensors"), "main");
    hub.gated.put(REPO, "hf_theRightOne");
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      HubException e = assertThrows(HubException.class, () -> c.resolve(REPO));
      assertEquals(HubException.Kind.UNAUTHORIZED, e.kind());
      assertTrue(
          e.getMessage().contains("gated or private") && e.getMessage().contains("HF_TOKEN"),
          e.getMessage());
    }
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0).withToken(TOKEN))) {
      assertFalse(c.settings().toString().contains(TOKEN));
      HubException e = assertThrows(HubException.class, () -> c.resolve(REPO));
      assertEquals(HubException.Kind.UNAUTHORIZED, e.kind());
      assertFalse(e.getMessage().contains(TOKEN), e.getMessage());
      assertTrue(
          e.getMessage().contains("Access denied for Bearer ***"),
          "the server's echo is masked: " + e.getMessage());
      for (Throwable t = e; t != null; t = t.getCause()) {
        assertFalse(String.valueOf(t.getMessage()).contains(TOKEN));
      }
    }
    assertTrue(logs.stream().noneMatch(l -> l.contains(TOKEN)));
  }

  @Test
  void theTokenOpensAGatedRepoButIsNotSentToTheCdn() {
    hub.add(REPO, SHA, tinyModel("v2", 5000), Set.of("model.safetensors"), "main");
    hub.gated.put(REPO, TOKEN);
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0).withToken(TOKEN))) {
      assertTrue(HubCache.isComplete(c.resolve(REPO)));
    }
    assertTrue(
        hub.seen("hub").stream().allMatch(s -> ("Bearer " + TOKEN).equals(s.authorization())));
    assertFalse(hub.seen("cdn").isEmpty());
    assertTrue(
        hub.seen("cdn").stream().allMatch(s -> s.authorization() == null),
        "no token to another origin");
    assertTrue(logs.stream().noneMatch(l -> l.contains(TOKEN)));
  }

  @Test
  void aTruncatedDownloadLeavesNoBlobOrSnapshotEntryAndTheRerunResumes() throws IOException {
    Map<String, byte[]> files = tinyModel("v2", 300_000);
    hub.add(REPO, SHA, files, Set.of("model.safetensors"), "main");
    String etag = FakeHub.sha256(files.get("model.safetensors"));
    hub.cdnFaults.add("truncate");
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      HubException e = assertThrows(HubException.class, () -> c.resolve(REPO));
      assertEquals(HubException.Kind.INCOMPLETE, e.kind(), e.getMessage());
      assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
      assertTrue(c.cachedSnapshot(ModelRef.HubRepo.class.cast(ModelRef.parse(REPO))).isEmpty());
    }
    Path snapshot = repoDir().resolve("snapshots").resolve(SHA);
    assertFalse(Files.exists(repoDir().resolve("blobs").resolve(etag)));
    assertFalse(
        Files.exists(snapshot.resolve("model.safetensors")),
        "no entry for a file that is not whole");
    assertFalse(
        Files.exists(repoDir().resolve("refs/main")),
        "the ref is written once the snapshot is whole");
    Path partial = repoDir().resolve("blobs").resolve(etag + ".incomplete");
    long kept = Files.size(partial);
    assertTrue(kept > 0 && kept < 300_000, "kept " + kept);

    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      assertEquals(snapshot, c.resolve(REPO));
    }
    assertArrayEquals(
        files.get("model.safetensors"), Files.readAllBytes(snapshot.resolve("model.safetensors")));
    List<FakeHub.Seen> cdn = hub.seen("cdn");
    assertEquals(
        "bytes=" + kept + "-",
        cdn.get(cdn.size() - 1).range(),
        "the rerun resumes the partial file");
    assertFalse(Files.exists(partial));
  }

  @Test
  void aStalledTransferIsAbortedAndRetriedFromWhereItStopped() throws IOException {
    Map<String, byte[]> files = tinyModel("v2", 100_000);
    hub.add(REPO, SHA, files, Set.of("model.safetensors"), "main");
    hub.cdnFaults.add("stall");
    hub.stallMillis.set(4000);
    long t0 = System.nanoTime();
    try (HubClient c = client(settings(Duration.ofMillis(800), 1))) {
      Path dir = c.resolve(REPO);
      assertArrayEquals(
          files.get("model.safetensors"), Files.readAllBytes(dir.resolve("model.safetensors")));
    }
    assertTrue(System.nanoTime() - t0 < 3_500_000_000L, "did not wait for the stalled server");
    List<FakeHub.Seen> cdn = hub.seen("cdn");
    assertEquals(2, cdn.size());
    assertNull(cdn.get(0).range());
    assertNotNull(cdn.get(1).range());
    assertTrue(logs.stream().anyMatch(l -> l.contains("no data for")), logs.toString());
  }

  @Test
  void aCorruptLfsBlobFailsItsSha256AndIsNotKept() throws IOException {
    Map<String, byte[]> files = tinyModel("v2", 10_000);
    hub.add(REPO, SHA, files, Set.of("model.safetensors"), "main");
    hub.cdnFaults.add("corrupt");
    String etag = FakeHub.sha256(files.get("model.safetensors"));
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      HubException e = assertThrows(HubException.class, () -> c.resolve(REPO));
      assertEquals(HubException.Kind.INCOMPLETE, e.kind());
      assertTrue(e.getMessage().contains("sha256"), e.getMessage());
    }
    assertFalse(Files.exists(repoDir().resolve("blobs").resolve(etag)));
    assertFalse(Files.exists(repoDir().resolve("blobs").resolve(etag + ".incomplete")));
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      c.resolve(REPO);
    }
    assertTrue(Files.exists(repoDir().resolve("blobs").resolve(etag)));
  }

  @Test
  void aRevisionPinSelectsThatCommitAndGetsItsOwnRef() throws IOException {
    hub.add(REPO, OLD_SHA, tinyModel("v1", 1000), Set.of("model.safetensors"), "v1.0");
    hub.add(REPO, SHA, tinyModel("v2", 1000), Set.of("model.safetensors"), "main");
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      Path byTag = c.resolve(REPO + "@v1.0");
      Path byMain = c.resolve(REPO);
      Path bySha = c.resolve(REPO + "@" + OLD_SHA);
      assertEquals(byTag, bySha);
      assertTrue(Files.readString(byTag.resolve("config.json")).contains("v1"));
      assertTrue(Files.readString(byMain.resolve("config.json")).contains("v2"));
    }
    assertEquals(OLD_SHA, Files.readString(repoDir().resolve("refs/v1.0")));
    assertEquals(SHA, Files.readString(repoDir().resolve("refs/main")));
    try (Stream<Path> refs = Files.list(repoDir().resolve("refs"))) {
      assertEquals(2, refs.count(), "a sha revision writes no ref");
    }
  }

  @Test
  void aPickleOnlyRepoIsRefusedBeforeAnyDownload() {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("config.json", "{}".getBytes(StandardCharsets.UTF_8));
    files.put("pytorch_model.bin", new byte[1000]);
    hub.add(REPO, SHA, files, Set.of("pytorch_model.bin"), "main");
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      HubException e = assertThrows(HubException.class, () -> c.resolve(REPO));
      assertEquals(HubException.Kind.PICKLE_ONLY, e.kind());
      assertTrue(
          e.getMessage().contains("pytorch_model.bin")
              && e.getMessage().contains("arbitrary code")
              && e.getMessage().contains("safe_serialization=True"),
          e.getMessage());
    }
    assertEquals(1, hub.requests(), "only the listing");
    assertTrue(hub.seen("cdn").isEmpty());
  }

  @Test
  void aShardedModelFetchesTheIndexAndOnlyTheShardsItNames() throws IOException {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("config.json", "{}".getBytes(StandardCharsets.UTF_8));
    files.put(
        "model.safetensors.index.json",
        ("{\"metadata\":{},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                + "\"b\":\"model-00002-of-00002.safetensors\",\"c\":\"model-00001-of-00002.safetensors\"}}")
            .getBytes(StandardCharsets.UTF_8));
    files.put("model-00001-of-00002.safetensors", new byte[3000]);
    files.put("model-00002-of-00002.safetensors", new byte[2000]);
    files.put("consolidated.safetensors", new byte[4000]);
    hub.add(
        REPO,
        SHA,
        files,
        Set.of(
            "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors",
            "consolidated.safetensors"),
        "main");
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      Path dir = c.resolve(REPO);
      assertTrue(Files.isRegularFile(dir.resolve("model-00002-of-00002.safetensors")));
      assertFalse(Files.exists(dir.resolve("consolidated.safetensors")));
      assertTrue(HubCache.isComplete(dir));
    }
    assertTrue(hub.seen("hub").stream().noneMatch(s -> s.path().contains("consolidated")));
  }

  @Test
  void aLocalDirectoryIsReturnedAsIsButPickleOnlyDirectoriesAreRefused() throws IOException {
    Path good = Files.createDirectories(tmp.resolve("good"));
    Files.writeString(good.resolve("config.json"), "{}");
    Files.write(good.resolve("model.safetensors"), new byte[8]);
    Path bad = Files.createDirectories(tmp.resolve("bad"));
    Files.write(bad.resolve("pytorch_model.bin"), new byte[8]);
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      assertEquals(good, c.resolve(good.toString()));
      assertEquals(
          HubException.Kind.PICKLE_ONLY,
          assertThrows(HubException.class, () -> c.resolve(bad.toString())).kind());
      assertEquals(
          HubException.Kind.NOT_FOUND,
          assertThrows(HubException.class, () -> c.resolve(tmp.resolve("missing").toString()))
              .kind());
    }
    assertEquals(0, hub.requests());
  }

  @Test
  void aRenamedRepositoryIsFollowedThroughRelativeRedirectsAndCachedUnderTheNameAsked()
      throws IOException {
    Map<String, byte[]> files = tinyModel("v2", 2000);
    hub.add(REPO, SHA, files, Set.of("model.safetensors"), "main");
    hub.renamed.put("tiny-org/old-name", REPO);
    try (HubClient c = client(settings(Duration.ofSeconds(5), 0))) {
      Path dir = c.resolve("tiny-org/old-name");
      assertEquals(tmp.resolve("hub/models--tiny-org--old-name/snapshots").resolve(SHA), dir);
      assertArrayEquals(
          files.get("model.safetensors"), Files.readAllBytes(dir.resolve("model.safetensors")));
    }
  }

  @Test
  void progressIsLoggedForSlowTransfers() {
    hub.add(REPO, SHA, tinyModel("v2", 100_000), Set.of("model.safetensors"), "main");
    hub.cdnFaults.add("stall");
    hub.stallMillis.set(400);
    try (HubClient c = client(settings(Duration.ofSeconds(5), 1))) {
      c.resolve(REPO);
    }
    assertTrue(
        logs.stream()
            .anyMatch(
                l ->
                    l.matches(
                        "downloading tiny-org/tiny-llama/model\\.safetensors: .* / 97\\.7 KiB \\(\\d+%\\) at .*/s")),
        logs.toString());
  }
}
