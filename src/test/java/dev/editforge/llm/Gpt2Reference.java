package dev.editforge.llm;

import java.nio.file.Path;

/**
 * GPT-2's forward written out in plain double arithmetic over the checkpoint's float arrays, as the
 * GPT-2 paper and transformers' {@code GPT2LMHeadModel} define it: the independent reference the
 * runtime's logits are checked against. Slow and only for tiny models.
 */
final class Gpt2Reference {
  private Gpt2Reference() {}

  /** Logits {@code [T][V]} of one unpadded sequence at positions 0..T-1. */
  static double[][] logits(Path modelDir, ModelConfig c, long[] ids) {
    try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(modelDir)) {
      int t = ids.length;
      int h = c.hiddenSize();
      int heads = c.numAttentionHeads();
      int d = h / heads;
      int inner = c.intermediateSize();
      int vocab = c.vocabSize();
      float[] wte = ckpt.readFloats("transformer.wte.weight");
      float[] wpe = ckpt.readFloats("transformer.wpe.weight");
      double[][] x = new double[t][h];
      for (int i = 0; i < t; i++) {
        for (int j = 0; j < h; j++) {
          x[i][j] = wte[(int) ids[i] * h + j] + wpe[i * h + j];
        }
      }
      for (int l = 0; l < c.numHiddenLayers(); l++) {
        String p = "transformer.h." + l + ".";
        double[][] a =
            layerNorm(x, ckpt.readFloats(p + "ln_1.weight"), ckpt.readFloats(p + "ln_1.bias"), c);
        double[][] qkv =
            conv1d(
                a,
                ckpt.readFloats(p + "attn.c_attn.weight"),
                ckpt.readFloats(p + "attn.c_attn.bias"),
                3 * h);
        double[][] attended = new double[t][h];
        for (int head = 0; head < heads; head++) {
          for (int q = 0; q < t; q++) {
            double[] scores = new double[q + 1];
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k <= q; k++) {
              double s = 0;
              for (int j = 0; j < d; j++) {
                s += qkv[q][head * d + j] * qkv[k][h + head * d + j];
              }
              scores[k] = s / Math.sqrt(d);
              max = Math.max(max, scores[k]);
            }
            double sum = 0;
            for (int k = 0; k <= q; k++) {
              scores[k] = Math.exp(scores[k] - max);
              sum += scores[k];
            }
            for (int k = 0; k <= q; k++) {
              for (int j = 0; j < d; j++) {
                attended[q][head * d + j] += scores[k] / sum * qkv[k][2 * h + head * d + j];
              }
            }
          }
        }
        add(
            x,
            conv1d(
                attended,
                ckpt.readFloats(p + "attn.c_proj.weight"),
                ckpt.readFloats(p + "attn.c_proj.bias"),
                h));
        double[][] b =
            layerNorm(x, ckpt.readFloats(p + "ln_2.weight"), ckpt.readFloats(p + "ln_2.bias"), c);
        double[][] f =
            conv1d(
                b,
                ckpt.readFloats(p + "mlp.c_fc.weight"),
                ckpt.readFloats(p + "mlp.c_fc.bias"),
                inner);
        for (double[] row : f) {
          for (int j = 0; j < row.length; j++) {
            double v = row[j];
            row[j] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
          }
        }
        add(
            x,
            conv1d(
                f,
                ckpt.readFloats(p + "mlp.c_proj.weight"),
                ckpt.readFloats(p + "mlp.c_proj.bias"),
                h));
      }
      double[][] out =
          layerNorm(
              x,
              ckpt.readFloats("transformer.ln_f.weight"),
              ckpt.readFloats("transformer.ln_f.bias"),
              c);
      double[][] logits = new double[t][vocab];
      for (int i = 0; i < t; i++) {
        for (int v = 0; v < vocab; v++) {
          double s = 0;
          for (int j = 0; j < h; j++) {
            s += out[i][j] * wte[v * h + j];
          }
          logits[i][v] = s;
        }
      }
      return logits;
    }
  }

  private static double[][] layerNorm(double[][] x, float[] w, float[] b, ModelConfig c) {
    double[][] out = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      double mean = 0;
      for (double v : x[i]) {
        mean += v;
      }
      mean /= x[i].length;
      double var = 0;
      for (double v : x[i]) {
        var += (v - mean) * (v - mean);
      }
      var /= x[i].length;
      out[i] = new double[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        out[i][j] = (x[i][j] - mean) / Math.sqrt(var + c.rmsNormEps()) * w[j] + b[j];
      }
    }
    return out;
  }

  /** {@code x W + b} with W stored {@code [in, out]} row-major. */
  private static double[][] conv1d(double[][] x, float[] w, float[] b, int outFeatures) {
    double[][] y = new double[x.length][outFeatures];
    for (int i = 0; i < x.length; i++) {
      for (int o = 0; o < outFeatures; o++) {
        double s = b[o];
        for (int k = 0; k < x[i].length; k++) {
          s += x[i][k] * w[k * outFeatures + o];
        }
        y[i][o] = s;
      }
    }
    return y;
  }

  private static void add(double[][] x, double[][] y) {
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < x[i].length; j++) {
        x[i][j] += y[i][j];
      }
    }
  }
}
