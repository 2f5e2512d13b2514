package org.dit4j.models.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

/** The tokenizer against {@code uvit/clip/tokenizer/public} (U-ViT's tokenizer call on 14 prompts): ids exact. */
class ClipTokenizerTest {
    private static Path clip;
    private static ClipTokenizer openai;
    private static JsonNode prompts;

    @BeforeAll
    static void load() throws Exception {
        clip = Fixtures.root().resolve("uvit/clip");
        openai = ClipTokenizer.load(clip.resolve("vocab"));
        prompts = new ObjectMapper().readTree(clip.resolve("tokenizer/public/prompts.json").toFile()).get("prompts");
    }

    @Test
    void everyPublicPromptGivesTheFixtureIds() {
        INDArray ids = Npy.read(clip.resolve("tokenizer/public/input_ids.npy")).castTo(DataType.LONG);
        assertEquals(14, prompts.size());
        for (JsonNode p : prompts) {
            String text = p.get("text").asText();
            List<String> tokens = new ArrayList<>();
            p.get("bpe_tokens").forEach(t -> tokens.add(t.asText()));
            assertEquals(tokens, openai.tokenize(text), text);
            ClipTokenizer.Encoding e = openai.encode(text);
            assertArrayEquals(ids.getRow(p.get("index").asInt()).toLongVector(), e.ids(), text);
            assertEquals(p.get("n_real").asInt(), e.length(), text);
            assertEquals(p.get("truncated").asBoolean(), e.dropped() > 0, text);
            assertEquals(Math.max(0, p.get("n_bpe").asInt() - 75), e.dropped(), text);
        }
    }

    @Test
    void huggingFaceVocabularyFilesGiveTheSameIds(@TempDir Path dir) throws Exception {
        // vocab.json / merges.txt as transformers writes them (save_vocabulary) for the same vocabulary.
        Files.writeString(dir.resolve("vocab.json"), new ObjectMapper().writeValueAsString(new TreeMap<>(openai.vocabulary())));
        String merges;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(clip.resolve("vocab/bpe_simple_vocab_16e6.txt.gz")))) {
            String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n");
            merges = "#version: 0.2\n" + String.join("\n", java.util.Arrays.copyOfRange(lines, 1, 1 + ClipTokenizer.MAX_MERGES)) + "\n";
        }
        Files.writeString(dir.resolve("merges.txt"), merges);
        ClipTokenizer hf = ClipTokenizer.load(dir);
        assertEquals(49408, hf.vocabulary().size());
        for (JsonNode p : prompts) assertArrayEquals(openai.encode(p.get("text").asText()).ids(), hf.encode(p.get("text").asText()).ids());
        assertArrayEquals(new long[]{49406, 320, 1125, 539, 320, 2368, 49407}, java.util.Arrays.copyOf(hf.encode("a photo of a cat").ids(), 7));
    }

    @Test
    void cleaningFollowsTransformersBasicTokenizer() {
        assertEquals("a b c", ClipTokenizer.clean("  A\tb\n\r\u00a0C\u3000 "));
        assertEquals("ab", ClipTokenizer.clean("a\u0000\u200b\ufffd\u0007b"));           // NUL, format, U+FFFD, control dropped
        assertEquals("x 猫 y", ClipTokenizer.clean("x猫y"));                               // CJK ideographs spaced
        assertEquals("naïve", ClipTokenizer.clean("nai\u0308ve"));                          // NFC
        assertArrayEquals(openai.bpeIds("naïve café"), openai.bpeIds("NAI\u0308VE CAFÉ"));
    }

    @Test
    void specialTokensInTheTextAndBytesOutsideAscii() {
        int[] ids = openai.bpeIds("a<|endoftext|>b");
        assertArrayEquals(new int[]{openai.vocabulary().get("a</w>"), 49407, openai.vocabulary().get("b</w>")}, ids);
        // Byte-level BPE: any text maps into the vocabulary, never onto the unknown token.
        for (int id : openai.bpeIds("日本語 😀 ñ")) assertTrue(id < 49406, "id " + id);
        assertEquals(2, openai.encode("").length());
    }

    @Test
    void truncationKeepsTheFirstTokensAndCountsTheRest() {
        String words = "cat ".repeat(100);
        ClipTokenizer.Encoding e = openai.encode(words);
        assertEquals(25, e.dropped());
        assertEquals(77, e.length());
        assertEquals(49407, e.ids()[76]);
        ClipTokenizer.Encoding shortMax = openai.encode("a photo of a cat", 4);
        assertArrayEquals(new long[]{49406, 320, 1125, 49407}, shortMax.ids());
        assertEquals(3, shortMax.dropped());
    }

    @Test
    void badTokenizerFilesAreOneLineErrors(@TempDir Path dir) throws Exception {
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.load(dir));
        assertTrue(none.getMessage().contains("no tokenizer files"), none.getMessage());
        Files.writeString(dir.resolve("vocab.json"), "[1, 2]");
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\n");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.load(dir));
        assertTrue(bad.getMessage().contains("vocab.json") && bad.getMessage().contains("JSON object"), bad.getMessage());
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0}");
        IllegalArgumentException noSpecial = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.load(dir));
        assertTrue(noSpecial.getMessage().contains("<|startoftext|>"), noSpecial.getMessage());
        Files.write(dir.resolve("x.txt.gz"), new byte[]{1, 2, 3});
        IllegalArgumentException gz = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.load(dir.resolve("x.txt.gz")));
        assertTrue(gz.getMessage().contains("x.txt.gz"), gz.getMessage());
    }
}
