package org.dit4j.data;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Images with captions, U-ViT's {@code MSCOCOFeatureDataset} under {@code CFGDataset}: per example one of its
 * captions' contexts at random, replaced by the empty prompt's context where the conditioning is dropped.
 */
public final class TextImagePairs implements TrainingData {
    private final TrainingData images;
    private final CaptionContexts captions;

    public TextImagePairs(TrainingData images, CaptionContexts captions) {
        if (images.size() != captions.size())
            throw new IllegalArgumentException(captions.location() + ": caption counts for " + captions.size() + " images, " + images.size() + " images");
        this.images = images;
        this.captions = captions;
    }

    /** (tokens, width) of one context. */
    public long[] contextShape() {
        return captions.contextShape();
    }

    public String location() {
        return captions.location();
    }

    public String textEncoder() {
        return captions.textEncoder();
    }

    /**
     * The contexts of examples {@code indices}, (B, L, D): for each row a caption drawn from {@code pick} (drawn for
     * every row, as the dataset draws it before CFGDataset looks), the empty context where {@code dropped}.
     */
    public INDArray contexts(long[] indices, SplittableRandom pick, boolean[] dropped) {
        INDArray[] rows = new INDArray[indices.length];
        for (int i = 0; i < indices.length; i++) {
            int image = Math.toIntExact(indices[i]);
            int k = pick.nextInt(captions.captions(image));
            rows[i] = dropped[i] ? captions.empty() : captions.context(image, k);
        }
        return Nd4j.concat(0, rows);
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public long[] exampleShape() {
        return images.exampleShape();
    }

    @Override
    public Batch batch(long[] indices, boolean[] flips) {
        return images.batch(indices, flips);
    }

    @Override
    public Batch batch(long[] indices, boolean[] flips, long draw) {
        return images.batch(indices, flips, draw);
    }

    /** The image's COCO id. */
    @Override
    public long label(int i) {
        return images.label(i);
    }

    @Override
    public void requireLabels(int numClasses) {
        throw new IllegalArgumentException(location() + ": text–image pairs have captions, not class labels (train a uvit-t2i model on them)");
    }

    @Override
    public String describe() {
        return images.describe() + ", with caption contexts " + Arrays.toString(contextShape()) + " from " + textEncoder();
    }
}
