package org.dit4j.data;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.*;

class TensorDataTest {
    @Test
    void aFlipMirrorsTheColumnsOnly() {
        INDArray x = Nd4j.linspace(1, 12, 12).reshape(1, 2, 2, 3).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        INDArray flipped = new TensorData(x, new long[]{0}).batch(new long[]{0}, new boolean[]{true}).x();
        assertEquals(Nd4j.createFromArray(new float[][][][]{{{{3, 2, 1}, {6, 5, 4}}, {{9, 8, 7}, {12, 11, 10}}}}), flipped);
    }
}
