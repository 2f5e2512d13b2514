package org.dit4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dit4j.io.Npy;
import org.dit4j.models.clip.FrozenClipEmbedder;
import org.dit4j.zoo.Zoo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "extract-text-features", mixinStandardHelpOptions = true,
        description = "Encode prompts with U-ViT's FrozenCLIPEmbedder (CLIP tokenizer + text model) into a context array (N, 77, D) .npy.")
public final class ExtractTextFeaturesCommand implements Callable<Integer> {
    /** The zoo name of U-ViT's text encoder. */
    public static final String DEFAULT_TEXT_ENCODER = "clip-vit-large-patch14";
    private static final long MAX_PROMPTS_BYTES = 256L << 20;

    @Option(names = "--prompts", required = true, paramLabel = "FILE",
            description = "One prompt per line (an empty line is the empty prompt), or a JSON list of strings (prompts with newlines).")
    Path prompts;

    @Option(names = "--out", required = true, paramLabel = "ctx.npy", description = "Context (N, 77, D) float32 .npy.")
    Path out;

    @Option(names = "--save-ids", paramLabel = "ids.npy", description = "Also write the input ids (N, 77) int64 .npy.")
    Path saveIds;

    @Option(names = "--text-encoder", defaultValue = DEFAULT_TEXT_ENCODER, paramLabel = "PATH|NAME",
            description = "A Hugging Face CLIP folder (config.json + model.safetensors or pytorch_model.bin) or a zoo name (default: ${DEFAULT-VALUE}).")
    String textEncoder;

    @Option(names = "--tokenizer", paramLabel = "PATH",
            description = "vocab.json + merges.txt folder or file, or openai's bpe_simple_vocab_16e6.txt.gz (default: the files beside the text encoder).")
    Path tokenizer;

    @Override
    public Integer call() throws Exception {
        if (saveIds != null && saveIds.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize()))
            throw new IllegalArgumentException("--save-ids and --out name the same file " + out);
        if (tokenizer != null && !Files.exists(tokenizer)) throw new IllegalArgumentException("--tokenizer: no such file or folder " + tokenizer);
        List<String> texts = readPrompts(prompts);
        FrozenClipEmbedder.Encoded enc = encode(textEncoder(textEncoder, tokenizer, Zoo.standard()), texts);
        Npy.write(out, enc.context());
        if (saveIds != null) Npy.write(saveIds, enc.inputIds());
        System.out.println("wrote " + texts.size() + " contexts " + Arrays.toString(enc.context().shape()) + " to " + out
                + (saveIds != null ? " and their ids to " + saveIds : ""));
        return 0;
    }

    /** {@code --text-encoder PATH|NAME} with {@code --tokenizer} (null: the files beside it). */
    static FrozenClipEmbedder textEncoder(String pathOrName, Path tokenizer, Zoo zoo) throws IOException {
        if (!Files.exists(Path.of(pathOrName)) && !(zoo.contains(pathOrName) && zoo.entry(pathOrName).isTextEncoder()))
            throw new IllegalArgumentException("--text-encoder: '" + pathOrName + "' is neither a file or folder nor a zoo text encoder ("
                    + DEFAULT_TEXT_ENCODER + ")");
        return zoo.loadTextEncoder(pathOrName, tokenizer);
    }

    /** The prompts' contexts, with a one-line warning for each prompt the tokenizer truncated (as Hugging Face's does, silently). */
    static FrozenClipEmbedder.Encoded encode(FrozenClipEmbedder embedder, List<String> texts) {
        FrozenClipEmbedder.Encoded enc = embedder.encode(texts);
        for (int i = 0; i < texts.size(); i++)
            if (enc.dropped()[i] > 0)
                System.err.println("warning: prompt " + (i + 1) + " is longer than " + embedder.maxLength() + " tokens: its last "
                        + enc.dropped()[i] + " tokens were dropped");
        return enc;
    }

    /** Lines without their terminators (a final newline ends the last prompt), or the strings of a JSON list. */
    static List<String> readPrompts(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such prompts file");
        String text;
        try {
            if (Files.size(file) > MAX_PROMPTS_BYTES) throw new IllegalArgumentException(file + ": over " + (MAX_PROMPTS_BYTES >> 20) + " MiB of prompts");
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read (" + e.getMessage() + ")");
        }
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        List<String> out = new ArrayList<>();
        if (text.strip().startsWith("[")) {
            JsonNode list;
            try {
                list = new ObjectMapper().readTree(text);
            } catch (IOException e) {
                throw new IllegalArgumentException(file + ": starts with '[' but is not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
            }
            if (!list.isArray()) throw new IllegalArgumentException(file + ": expected a JSON list of strings");
            for (int i = 0; i < list.size(); i++) {
                if (!list.get(i).isTextual()) throw new IllegalArgumentException(file + ": element " + i + " of the JSON list is not a string: " + list.get(i));
                out.add(list.get(i).textValue());
            }
        } else {
            String[] lines = text.split("\n", -1);
            int n = text.endsWith("\n") ? lines.length - 1 : lines.length;
            for (int i = 0; i < n; i++) out.add(lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i]);
        }
        if (out.isEmpty()) throw new IllegalArgumentException(file + ": no prompts");
        return out;
    }
}
