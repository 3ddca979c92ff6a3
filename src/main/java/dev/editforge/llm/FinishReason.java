package dev.editforge.llm;

/**
 * Why a completion ended: a stop token or string ({@code stop}) or the token budget ({@code
 * length}).
 */
public enum FinishReason {
  STOP,
  LENGTH;

  public String wireName() {
    return name().toLowerCase();
  }
}
