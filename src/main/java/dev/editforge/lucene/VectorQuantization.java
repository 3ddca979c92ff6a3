package dev.editforge.lucene;

/** How an index stores its vectors. */
public enum VectorQuantization {
  /** 4 bytes per component; exact scores. */
  NONE,
  /**
   * One byte per component via Lucene's scalar quantization (7-bit, the layout Lucene calls int8):
   * about 4x smaller vector data at a small recall cost; the raw floats are kept too so merges can
   * requantize, which makes the files larger, not smaller, on disk.
   */
  INT8
}
