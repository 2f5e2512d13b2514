package org.dit4j.models.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** U-ViT's {@code FrozenCLIPEmbedder.encode(prompts)} end to end: text → ids → last_hidden_state, against {@code uvit/clip/text_encoder}. */
class FrozenClipEmbedderTest {
    private static final Path FIXTURE = Fixtures.root().resolve("uvit/clip/text_encoder");

    static List<String> fixturePrompts() throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode p : new ObjectMapper().readTree(FIXTURE.resolve("prompts.json").toFile())) out.add(p.get("text").asText());
        return out;
    }

    /** The fixture tower as a hub folder with openai's BPE file beside it. */
    static Path folderWithTokenizer(Path dir) throws Exception {
        ClipTextModelTest.hfFolder(dir);
        Files.copy(Fixtures.root().resolve("uvit/clip/vocab/bpe_simple_vocab_16e6.txt.gz"), dir.resolve("bpe_simple_vocab_16e6.txt.gz"));
        return dir;
    }

    @Test
    void promptsGiveTheOfficialIdsAndContext(@TempDir Path dir) throws Exception {
        FrozenClipEmbedder clip = FrozenClipEmbedder.load(folderWithTokenizer(dir), null);
        assertEquals(16, clip.contextDim());
        List<String> prompts = fixturePrompts();
        FrozenClipEmbedder.Encoded enc = clip.encode(prompts);
        assertArrayEquals(Npy.read(FIXTURE.resolve("input_ids.npy")).toLongMatrix(), enc.inputIds().toLongMatrix());
        assertArrayEquals(new int[]{0, 0, 11, 0}, enc.dropped());
        INDArray ref = Npy.read(FIXTURE.resolve("last_hidden_state.npy"));
        Fixtures.assertClose(ref, enc.context(), 1e-4, 1e-4, "FrozenCLIPEmbedder.encode");
        System.out.printf("FrozenClipEmbedder: ids exact, max |Δ| context %.3g%n", Fixtures.maxAbsDiff(ref, enc.context()));
        // The empty prompt's context is what U-ViT's guidance uses as the unconditional context.
        Fixtures.assertClose(ref.get(NDArrayIndex.interval(3, 4), NDArrayIndex.all(), NDArrayIndex.all()).dup(), clip.emptyContext(), 1e-4, 1e-4, "empty context");
    }

    @Test
    void aDiffusersPipelineFolderAndItsTextEncoderFindTheTokenizerFolder(@TempDir Path dir) throws Exception {
        Path te = Files.createDirectories(dir.resolve("text_encoder")), tok = Files.createDirectories(dir.resolve("tokenizer"));
        ClipTextModelTest.hfFolder(te);
        Files.copy(Fixtures.root().resolve("uvit/clip/vocab/bpe_simple_vocab_16e6.txt.gz"), tok.resolve("bpe_simple_vocab_16e6.txt.gz"));
        assertEquals(tok.resolve("bpe_simple_vocab_16e6.txt.gz").toAbsolutePath(), FrozenClipEmbedder.tokenizerBeside(te).toAbsolutePath());
        assertEquals(77, FrozenClipEmbedder.load(te, null).encode(List.of("a cat")).inputIds().size(1));
        assertArrayEquals(FrozenClipEmbedder.load(te, null).encode(List.of("a cat")).inputIds().toLongVector(),
                FrozenClipEmbedder.load(dir, null).encode(List.of("a cat")).inputIds().toLongVector(), "the pipeline folder itself");
    }

    @Test
    void aTextEncoderWithoutTokenizerFilesIsAOneLineError(@TempDir Path dir) throws Exception {
        ClipTextModelTest.hfFolder(dir);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FrozenClipEmbedder.load(dir, null));
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("without tokenizer files"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}
