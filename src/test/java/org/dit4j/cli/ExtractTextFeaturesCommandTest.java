package org.dit4j.cli;

import org.dit4j.Fixtures;
import org.dit4j.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@code dit4j extract-text-features}: prompts file → context .npy (and ids), against the tiny CLIP tower's official outputs. */
class ExtractTextFeaturesCommandTest {
    private static final Path FIXTURE = Fixtures.root().resolve("uvit/clip/text_encoder");
    @TempDir
    static Path shared;
    private static Path model;
    private static String longPrompt;

    @BeforeAll
    static void folder() throws Exception {
        model = Files.createDirectories(shared.resolve("clip-tiny"));
        Files.writeString(model.resolve("config.json"),
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(FIXTURE.resolve("config.json").toFile()).get("hf_config").toString());
        Files.copy(FIXTURE.resolve("weights/pytorch_model.bin"), model.resolve("pytorch_model.bin"));
        longPrompt = new com.fasterxml.jackson.databind.ObjectMapper().readTree(FIXTURE.resolve("prompts.json").toFile()).get(2).get("text").asText();
    }

    private static String[] args(Path prompts, Path out, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("extract-text-features", "--prompts", prompts.toString(), "--out", out.toString(),
                "--text-encoder", model.toString()));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    @Test
    void aJsonListAndLinesGiveTheOfficialContexts(@TempDir Path dir) throws Exception {
        Path gz = Fixtures.root().resolve("uvit/clip/vocab/bpe_simple_vocab_16e6.txt.gz");
        Path json = dir.resolve("prompts.json"), out = dir.resolve("ctx.npy"), ids = dir.resolve("ids.npy");
        Files.writeString(json, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(
                List.of("a photo of a cat", "A PHOTO of  a Cat!", longPrompt, "")));
        String err = ForwardCommandTest.stderrOf(() -> assertEquals(0, Dit4j.run(args(json, out, "--save-ids", ids.toString(), "--tokenizer", gz.toString()))));
        assertEquals("warning: prompt 3 is longer than 77 tokens: its last 11 tokens were dropped", err.strip());
        Fixtures.assertClose(Npy.read(FIXTURE.resolve("last_hidden_state.npy")), Npy.read(out), 1e-4, 1e-4, "ctx.npy");
        assertArrayEquals(Npy.read(FIXTURE.resolve("input_ids.npy")).toLongMatrix(), Npy.read(ids).toLongMatrix());

        Path lines = dir.resolve("prompts.txt"), out2 = dir.resolve("ctx2.npy");
        Files.writeString(lines, "a photo of a cat\r\nA PHOTO of  a Cat!\n" + longPrompt + "\n\n");
        assertEquals(0, Dit4j.run(args(lines, out2, "--tokenizer", gz.toString())));
        INDArray a = Npy.read(out2);
        assertArrayEquals(new long[]{4, 77, 16}, a.shape());
        Fixtures.assertClose(Npy.read(out), a, 0, 0, "lines = JSON list");
    }

    @Test
    void badInputsAreOneLineErrors(@TempDir Path dir) throws Exception {
        Path prompts = dir.resolve("p.txt"), out = dir.resolve("ctx.npy");
        Files.writeString(prompts, "a cat\n");
        // the model folder has no tokenizer files and none is given
        String err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(args(prompts, out))));
        assertTrue(err.contains("without tokenizer files") && err.contains(model.toString()), err);
        assertEquals(1, err.strip().lines().count(), err);
        err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(args(dir.resolve("missing.txt"), out))));
        assertTrue(err.contains("missing.txt") && err.contains("no such prompts file"), err);
        Files.write(prompts, new byte[]{'a', (byte) 0xff, '\n'});
        err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(args(prompts, out))));
        assertTrue(err.contains("not UTF-8"), err);
        Files.writeString(prompts, "[\"a\", 3]");
        err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(args(prompts, out))));
        assertTrue(err.contains("element 1") && err.contains("not a string"), err);
        Files.writeString(prompts, "a cat\n");
        err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run("extract-text-features", "--prompts", prompts.toString(), "--out", out.toString(),
                "--text-encoder", "no-such-encoder")));
        assertTrue(err.contains("--text-encoder") && err.contains("no-such-encoder"), err);
        Path vocab = dir.resolve("vocab.json");
        Files.writeString(vocab, "{not json");
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\n");
        err = ForwardCommandTest.stderrOf(() -> assertEquals(2, Dit4j.run(args(prompts, out, "--tokenizer", vocab.toString()))));
        assertTrue(err.contains("vocab.json") && err.contains("malformed JSON"), err);
        assertEquals(1, err.strip().lines().count(), err);
        assertFalse(Files.exists(out), "no output on failure");
    }
}
