package dev.editforge.llm;

import ai.djl.ndarray.NDArray;

/**
 * One call of {@link DecoderModel#forward}.
 *
 * @param inputIds {@code [B, T]} int64 token ids (required). The logits and every intermediate are
 *     created on this array's manager; intermediates are closed before forward returns.
 * @param attentionMask {@code [B, P + T]} (any numeric type; nonzero = real token, 0 = padding),
 *     where {@code P} is the cache length (0 without a cache); null = every position is real
 * @param positionIds {@code [B, T]} int64 rotary positions; null = derived from the attention mask
 *     as Hugging Face does ({@code cumsum(mask) - 1}, padding at 0), so left-padded rows start at
 *     0. Packed training sequences pass positions that restart at 0 for each packed sample.
 * @param attendMask {@code [B, T, P + T]} or {@code [B, 1, T, P + T]}, nonzero = query may attend
 *     to key; AND-ed with the causal and padding masks (so a block-diagonal mask is enough to keep
 *     packed samples apart); null = none
 * @param cache the KV cache to read past keys/values from and append this call's to; null = no
 *     cache (training, or recomputation). Not usable under autograd.
 * @param delta added to every linear projection (LoRA); null = the base model
 * @param lastPositionOnly true = logits {@code [B, 1, V]} of the last position only (generation);
 *     false = {@code [B, T, V]} (training)
 */
public record DecoderInput(
    NDArray inputIds,
    NDArray attentionMask,
    NDArray positionIds,
    NDArray attendMask,
    KvCache cache,
    ProjectionDelta delta,
    boolean lastPositionOnly) {

  public DecoderInput {
    if (inputIds == null || inputIds.getShape().dimension() != 2) {
      throw new IllegalArgumentException("inputIds must be [batch, time]");
    }
  }

  /** A training batch: logits for every position, no cache. */
  public static DecoderInput training(NDArray inputIds, NDArray attentionMask) {
    return new DecoderInput(inputIds, attentionMask, null, null, null, null, false);
  }

  public DecoderInput withPositionIds(NDArray positions) {
    return new DecoderInput(
        inputIds, attentionMask, positions, attendMask, cache, delta, lastPositionOnly);
  }

  public DecoderInput withAttendMask(NDArray mask) {
    return new DecoderInput(
        inputIds, attentionMask, positionIds, mask, cache, delta, lastPositionOnly);
  }

  public DecoderInput withDelta(ProjectionDelta projectionDelta) {
    return new DecoderInput(
        inputIds, attentionMask, positionIds, attendMask, cache, projectionDelta, lastPositionOnly);
  }

  public DecoderInput withCache(KvCache kvCache) {
    return new DecoderInput(
        inputIds, attentionMask, positionIds, attendMask, kvCache, delta, lastPositionOnly);
  }

  public DecoderInput lastPositionOnly(boolean last) {
    return new DecoderInput(inputIds, attentionMask, positionIds, attendMask, cache, delta, last);
  }

  public int batchSize() {
    return (int) inputIds.getShape().get(0);
  }

  public int length() {
    return (int) inputIds.getShape().get(1);
  }
}
