package org.dit4j.models.clip;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * U-ViT's {@code FrozenCLIPEmbedder} ({@code libs/clip.py}): prompts → {@code CLIPTokenizer(truncation=True, max_length=77,
 * padding="max_length")} → {@code CLIPTextModel(input_ids).last_hidden_state}, without an attention mask: the
 * context (N, 77, D) U-ViT's text-to-image models take (D = 768 for clip-vit-large-patch14).
 */
public final class FrozenClipEmbedder {
    /** How many prompts go through the text model at once. */
    private static final int BATCH = 32;
    private final ClipTokenizer tokenizer;
    private final ClipTextModel transformer;
    private final int maxLength;

    /** The prompts' context (N, maxLength, D) float32, their input ids (N, maxLength) int64, and how many BPE tokens each lost to truncation. */
    public record Encoded(INDArray context, INDArray inputIds, int[] dropped) {}

    public FrozenClipEmbedder(ClipTokenizer tokenizer, ClipTextModel transformer) {
        this(tokenizer, transformer, ClipTokenizer.MAX_LENGTH);
    }

    public FrozenClipEmbedder(ClipTokenizer tokenizer, ClipTextModel transformer, int maxLength) {
        if (maxLength > transformer.config().maxPositionEmbeddings())
            throw new IllegalArgumentException("max_length " + maxLength + " exceeds the text model's max_position_embeddings " + transformer.config().maxPositionEmbeddings());
        int vocab = transformer.config().vocabSize();
        if (tokenizer.bosId() >= vocab || tokenizer.eosId() >= vocab)
            throw new IllegalArgumentException("the tokenizer's special ids (" + tokenizer.bosId() + ", " + tokenizer.eosId()
                    + ") are outside the text model's vocabulary of " + vocab);
        this.tokenizer = tokenizer;
        this.transformer = transformer;
        this.maxLength = maxLength;
    }

    /**
     * The text model at {@code textEncoder} (see {@link ClipTextModel#load}; a diffusers pipeline folder means its
     * {@code text_encoder/}) with the tokenizer at {@code tokenizer}, or, when that is null, the tokenizer files beside
     * the model ({@link #tokenizerBeside}).
     */
    public static FrozenClipEmbedder load(Path textEncoder, Path tokenizer) {
        // a diffusers pipeline folder: its text_encoder/ (and tokenizer/ beside it)
        if (Files.isDirectory(textEncoder.resolve("text_encoder")) && !Files.exists(textEncoder.resolve("config.json")))
            textEncoder = textEncoder.resolve("text_encoder");
        Path tok = tokenizer;
        if (tok == null) {
            tok = tokenizerBeside(textEncoder);
            if (tok == null) throw new IllegalArgumentException(textEncoder + ": a text encoder without tokenizer files (vocab.json + merges.txt,"
                    + " or bpe_simple_vocab_16e6.txt.gz, in the folder or a sibling tokenizer/ folder); give the tokenizer's path");
        }
        ClipTokenizer t = ClipTokenizer.load(tok);
        return new FrozenClipEmbedder(t, ClipTextModel.load(textEncoder));
    }

    /** The tokenizer files of a model folder: in it (a hub download), or in a sibling {@code tokenizer/} (a diffusers pipeline); null if none. */
    public static Path tokenizerBeside(Path textEncoder) {
        Path dir = Files.isDirectory(textEncoder) ? textEncoder : textEncoder.toAbsolutePath().getParent();
        Path here = ClipTokenizer.find(dir);
        if (here != null) return here;
        Path sibling = dir.toAbsolutePath().resolveSibling("tokenizer");
        return Files.isDirectory(sibling) ? ClipTokenizer.find(sibling) : null;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    public ClipTextModel transformer() {
        return transformer;
    }

    /** The context width D (U-ViT's {@code clip_dim}). */
    public int contextDim() {
        return transformer.config().hiddenSize();
    }

    public int maxLength() {
        return maxLength;
    }

    /** {@code FrozenCLIPEmbedder.encode(prompts)}. */
    public Encoded encode(List<String> prompts) {
        if (prompts.isEmpty()) throw new IllegalArgumentException("no prompts to encode");
        int n = prompts.size();
        long[][] ids = new long[n][];
        int[] dropped = new int[n];
        for (int i = 0; i < n; i++) {
            ClipTokenizer.Encoding e = tokenizer.encode(prompts.get(i), maxLength);
            ids[i] = e.ids();
            dropped[i] = e.dropped();
        }
        INDArray inputIds = Nd4j.createFromArray(ids).castTo(DataType.LONG);
        List<INDArray> parts = new ArrayList<>();
        for (int s = 0; s < n; s += BATCH) {
            int e = Math.min(n, s + BATCH);
            parts.add(transformer.forward(inputIds.get(NDArrayIndex.interval(s, e), NDArrayIndex.all()).dup()));
        }
        INDArray context = parts.size() == 1 ? parts.get(0) : Nd4j.concat(0, parts.toArray(new INDArray[0]));
        return new Encoded(context, inputIds, dropped);
    }

    /** The context of the empty prompt (1, maxLength, D): U-ViT's unconditional context for guidance. */
    public INDArray emptyContext() {
        return encode(List.of("")).context();
    }
}
