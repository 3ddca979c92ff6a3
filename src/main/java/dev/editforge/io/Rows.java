package dev.editforge.io;

import java.util.List;

/** Building Spark rows from Java values: array columns must be Scala sequences. */
public final class Rows {
  private Rows() {}

  /**
   * A Scala immutable list of the values, the external type Spark expects for array columns.
   * JavaConverters is deprecated on Scala 2.13 but is the one converter both 2.12 (Spark 3.5) and
   * 2.13 (Spark 4) ship.
   */
  @SuppressWarnings("deprecation")
  public static <T> scala.collection.immutable.List<T> seq(List<T> values) {
    return scala.collection.JavaConverters.asScalaBuffer(values).toList();
  }
}
