package org.dit4j.training;

import org.apache.spark.SparkConf;
import org.dit4j.training.spark.SparkEngine;
import org.junit.jupiter.api.Test;

import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SparkConfTest {
    private static final String WAIT = "spark.executorEnv.OMP_WAIT_POLICY";

    @Test
    void executorsWaitAsTheDriverDoes() {
        SparkConf conf = SparkEngine.sparkConf("spark://127.0.0.1:7077", false);
        assertEquals(Objects.requireNonNullElse(System.getenv("OMP_WAIT_POLICY"), "PASSIVE"), conf.get(WAIT));
        assertEquals("127.0.0.1", conf.get("spark.driver.host"));
    }

    @Test
    void aWaitPolicyTheUserGaveSparkWins() {
        System.setProperty(WAIT, "ACTIVE");   // as spark-submit --conf passes it
        try {
            assertEquals("ACTIVE", SparkEngine.sparkConf("local[2]", false).get(WAIT));
        } finally {
            System.clearProperty(WAIT);
        }
    }
}
