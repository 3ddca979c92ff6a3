package dev.editforge.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ShardAssignerTest {

  @Test
  void assignmentsMatchAnIndependentSha256Computation() {
    // Expected values from Python: int.from_bytes(sha256(id.encode()).digest()[:8], 'big',
    // signed=True) % n
    assertEquals(1, new ShardAssigner(3).shardOf("p-0"));
    assertEquals(3, new ShardAssigner(8).shardOf("p-0"));
    assertEquals(715, new ShardAssigner(1000).shardOf("p-0"));
    assertEquals(458, new ShardAssigner(1000).shardOf("abc"));
    assertEquals(632, new ShardAssigner(1000).shardOf("passage-123"));
    assertEquals(3, new ShardAssigner(8).shardOf("日本"));
  }

  @Test
  void shardsAreRoughlyBalanced() {
    ShardAssigner a = new ShardAssigner(8);
    int[] counts = new int[8];
    for (int i = 0; i < 8000; i++) {
      counts[a.shardOf("passage-" + i)]++;
    }
    for (int c : counts) {
      assertTrue(c > 850 && c < 1150, "unbalanced shard: " + c);
    }
  }

  @Test
  void rejectsMissingIdsAndBadCounts() {
    assertThrows(IllegalArgumentException.class, () -> new ShardAssigner(0));
    assertThrows(IllegalArgumentException.class, () -> new ShardAssigner(2).shardOf(""));
    assertEquals("shard-00007", ShardAssigner.shardDirName(7));
  }
}
