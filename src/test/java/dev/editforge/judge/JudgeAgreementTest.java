package dev.editforge.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class JudgeAgreementTest {

  @Test
  void metricsOfAHandMadeConfusionMatrix() {
    // 100 answers: reference says correct for 30; the judge says correct for 25, 20 of them right.
    JudgeAgreement a = new JudgeAgreement(20, 5, 10, 65);
    assertEquals(100, a.n());
    assertEquals(0.85, a.accuracy(), 1e-12);
    assertEquals(0.8, a.precision(), 1e-12);
    assertEquals(2.0 / 3, a.recall(), 1e-12);
    // p_e = 0.25*0.30 + 0.75*0.70 = 0.6; kappa = (0.85-0.6)/(1-0.6) = 0.625
    assertEquals(0.625, a.kappa(), 1e-12);
  }

  @Test
  void addCountsEachCell() {
    JudgeAgreement a =
        JudgeAgreement.empty()
            .add(true, true)
            .add(false, true)
            .add(true, false)
            .add(false, false)
            .add(false, false);
    assertEquals(new JudgeAgreement(1, 1, 1, 2), a);
  }

  @Test
  void degenerateCases() {
    // A judge that always says "wrong" on a mostly-wrong run: high accuracy, zero kappa.
    JudgeAgreement never = new JudgeAgreement(0, 0, 10, 90);
    assertEquals(0.9, never.accuracy(), 1e-12);
    assertEquals(0.0, never.kappa(), 1e-12);
    assertEquals(0.0, never.precision());
    // Perfect disagreement is negative.
    assertTrue(new JudgeAgreement(0, 50, 50, 0).kappa() < 0);
    assertTrue(Double.isNaN(new JudgeAgreement(0, 0, 0, 7).kappa()));
    assertTrue(Double.isNaN(JudgeAgreement.empty().accuracy()));
  }
}
