package org.dit4j.models.clip;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.*;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * Hugging Face's {@code CLIPTokenizer} as U-ViT's {@code FrozenCLIPEmbedder} calls it ({@code truncation=True,
 * max_length=77, padding="max_length"}): {@code [bos] + bpe[:75] + [eos]}, right-padded with the pad token
 * {@code <|endoftext|>} (49407). The text is cleaned as transformers does without ftfy ({@code BasicTokenizer(
 * strip_accents=False, do_split_on_punc=False)}: control characters dropped, whitespace collapsed, CJK ideographs
 * spaced, NFC, lower case), which on printable ASCII equals the ftfy path ({@code whitespace_clean(fix_text(t)).lower()});
 * ftfy's repairs (HTML entities, mojibake, curly quotes) are not applied. Then openai's regex pre-split, GPT-2's
 * byte→unicode table and the BPE merges.
 */
public final class ClipTokenizer {
    /** U-ViT's {@code max_length}. */
    public static final int MAX_LENGTH = 77;
    public static final String BOS = "<|startoftext|>", EOS = "<|endoftext|>";
    /** {@code merges[1 : 49152 - 256 - 2 + 1]}: both loaders keep at most this many merges. */
    static final int MAX_MERGES = 49152 - 256 - 2;
    private static final long MAX_FILE_BYTES = 64L << 20;
    private static final Pattern PRE_SPLIT = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CHARACTER_CLASS);
    private static final char[] BYTE_ENCODER = bytesToUnicode();

    /** The ids of one prompt: {@code ids} padded to the maximum length, {@code length} the real tokens (bos and eos included). */
    public record Encoding(long[] ids, int length, int dropped) {}

    private final Map<String, Integer> encoder;
    private final Map<String, Integer> ranks;
    private final Map<String, String[]> cache = new java.util.concurrent.ConcurrentHashMap<>();
    private final int bos, eos;

    private ClipTokenizer(Map<String, Integer> encoder, List<String[]> merges, String source) {
        this.encoder = encoder;
        this.ranks = new HashMap<>();
        // dict(zip(merges, range(len(merges)))): a repeated pair keeps its last rank.
        for (int i = 0; i < merges.size(); i++) ranks.put(merges.get(i)[0] + " " + merges.get(i)[1], i);
        Integer b = encoder.get(BOS), e = encoder.get(EOS);
        if (b == null || e == null) throw new IllegalArgumentException(source + ": the vocabulary has no " + BOS + " / " + EOS + " token");
        this.bos = b;
        this.eos = e;
    }

    /**
     * The tokenizer files at {@code path}: a folder with {@code vocab.json} + {@code merges.txt} (Hugging Face) or
     * {@code bpe_simple_vocab_16e6.txt.gz} (openai), or one of those files itself.
     */
    public static ClipTokenizer load(Path path) {
        if (Files.isDirectory(path)) {
            Path found = find(path);
            if (found == null) throw new IllegalArgumentException(path + ": no tokenizer files (vocab.json + merges.txt, or bpe_simple_vocab_16e6.txt.gz)");
            return load(found);
        }
        if (!Files.isRegularFile(path)) throw new IllegalArgumentException(path + ": no such tokenizer file");
        String name = path.getFileName().toString();
        if (name.endsWith(".gz")) return fromOpenAiBpe(path);
        if (name.equals("vocab.json")) return fromHuggingFace(path, path.resolveSibling("merges.txt"));
        if (name.equals("merges.txt")) return fromHuggingFace(path.resolveSibling("vocab.json"), path);
        throw new IllegalArgumentException(path + ": not a tokenizer file (expected vocab.json, merges.txt or a .txt.gz BPE file)");
    }

    /** The tokenizer file {@link #load} would use in {@code dir}, or null: HF's pair first, then openai's file. */
    public static Path find(Path dir) {
        if (Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt"))) return dir.resolve("vocab.json");
        Path gz = dir.resolve("bpe_simple_vocab_16e6.txt.gz");
        return Files.isRegularFile(gz) ? gz : null;
    }

    /** transformers' files: {@code vocab.json} (token → id) and {@code merges.txt} (a header line, then "a b" per rank). */
    public static ClipTokenizer fromHuggingFace(Path vocabJson, Path mergesTxt) {
        String merges = utf8(readBounded(mergesTxt), mergesTxt);
        return new ClipTokenizer(readVocab(vocabJson), parseMerges(merges.strip(), mergesTxt), vocabJson.toString());
    }

    /**
     * openai's {@code bpe_simple_vocab_16e6.txt.gz}: the merges, from which {@code SimpleTokenizer} builds the vocabulary
     * — the 256 byte symbols, the same with {@code </w>}, each merge's result in rank order, then bos and eos.
     */
    public static ClipTokenizer fromOpenAiBpe(Path gz) {
        String text;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            text = utf8(readAtMost(in, MAX_FILE_BYTES, gz), gz);
        } catch (IOException e) {
            throw new IllegalArgumentException(gz + ": cannot read the gzip BPE file (" + e.getMessage() + ")");
        }
        List<String[]> merges = parseMerges(text, gz);
        Map<String, Integer> vocab = new HashMap<>();
        List<String> symbols = new ArrayList<>();
        for (char c : byteSymbolsInDictOrder()) symbols.add(String.valueOf(c));
        for (char c : byteSymbolsInDictOrder()) symbols.add(c + "</w>");
        for (String[] m : merges) symbols.add(m[0] + m[1]);
        symbols.add(BOS);
        symbols.add(EOS);
        // dict(zip(vocab, range(len(vocab)))): a repeated symbol keeps its last id.
        for (int i = 0; i < symbols.size(); i++) vocab.put(symbols.get(i), i);
        return new ClipTokenizer(vocab, merges, gz.toString());
    }

    /** {@code split('\n')[1 : 49152 - 256 - 2 + 1]}, each line split on whitespace into a pair. */
    private static List<String[]> parseMerges(String text, Path source) {
        String[] lines = text.split("\n", -1);
        List<String[]> out = new ArrayList<>();
        for (int i = 1; i < lines.length && i <= MAX_MERGES; i++) {
            String[] pair = lines[i].strip().split("\\s+");
            if (pair.length != 2) throw new IllegalArgumentException(source + ": line " + (i + 1) + " is not a merge of two symbols");
            out.add(pair);
        }
        if (out.isEmpty()) throw new IllegalArgumentException(source + ": no BPE merges");
        return out;
    }

    private static Map<String, Integer> readVocab(Path vocabJson) {
        byte[] bytes = readBounded(vocabJson);
        Map<String, Integer> vocab = new HashMap<>();
        try (JsonParser p = new ObjectMapper().getFactory().createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IllegalArgumentException(vocabJson + ": expected a JSON object of token → id");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String token = p.getCurrentName();
                if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT || p.getIntValue() < 0)
                    throw new IllegalArgumentException(vocabJson + ": the id of token '" + token + "' is not a non-negative integer");
                vocab.put(token, p.getIntValue());
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(vocabJson + ": malformed JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        return vocab;
    }

    private static byte[] readBounded(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such tokenizer file");
        try (InputStream in = Files.newInputStream(file)) {
            return readAtMost(in, MAX_FILE_BYTES, file);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private static byte[] readAtMost(InputStream in, long max, Path file) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
            if (out.size() + (long) n > max) throw new IllegalArgumentException(file + ": over " + (max >> 20) + " MiB, not a CLIP tokenizer file");
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    private static String utf8(byte[] bytes, Path file) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": not UTF-8 text");
        }
    }

    /** GPT-2's {@code bytes_to_unicode()}: printable Latin-1 bytes map to themselves, the rest to 256, 257, … in byte order. */
    private static char[] bytesToUnicode() {
        char[] table = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char) b : (char) (256 + n++);
        }
        return table;
    }

    /** {@code bytes_to_unicode().values()}: the dict was built printable bytes first, then the others. */
    private static List<Character> byteSymbolsInDictOrder() {
        List<Character> printable = new ArrayList<>(), others = new ArrayList<>();
        for (char c : BYTE_ENCODER) (c < 256 ? printable : others).add(c);
        printable.addAll(others);
        return printable;
    }

    public int bosId() {
        return bos;
    }

    public int eosId() {
        return eos;
    }

    /** HF's {@code pad_token} is {@code <|endoftext|>}: U-ViT passes no attention mask, so the padding rows depend on it. */
    public int padId() {
        return eos;
    }

    /** Token → id. */
    public Map<String, Integer> vocabulary() {
        return Collections.unmodifiableMap(encoder);
    }

    /** The BPE tokens of {@code text} (no bos/eos), as {@code CLIPTokenizer._tokenize}. */
    public List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = PRE_SPLIT.matcher(clean(text));
        while (m.find()) {
            byte[] utf8 = m.group().getBytes(StandardCharsets.UTF_8);
            StringBuilder word = new StringBuilder(utf8.length);
            for (byte b : utf8) word.append(BYTE_ENCODER[b & 0xff]);
            out.addAll(Arrays.asList(bpe(word.toString())));
        }
        return out;
    }

    /** The ids of {@link #tokenize}; a token outside the vocabulary is the unknown token {@code <|endoftext|>}, as HF's. */
    public int[] bpeIds(String text) {
        List<String> tokens = tokenize(text);
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = encoder.getOrDefault(tokens.get(i), eos);
        return ids;
    }

    /** {@link #encode(String, int)} with U-ViT's 77. */
    public Encoding encode(String text) {
        return encode(text, MAX_LENGTH);
    }

    /**
     * {@code tokenizer(text, truncation=True, max_length=maxLength, padding="max_length")["input_ids"]}: bos, the first
     * {@code maxLength − 2} BPE ids (truncation removes from the right), eos, then the pad id up to {@code maxLength}.
     */
    public Encoding encode(String text, int maxLength) {
        if (maxLength < 2) throw new IllegalArgumentException("max_length " + maxLength + " leaves no room for the start and end tokens");
        int[] bpe = bpeIds(text);
        int kept = Math.min(bpe.length, maxLength - 2);
        long[] ids = new long[maxLength];
        Arrays.fill(ids, padId());
        ids[0] = bos;
        for (int i = 0; i < kept; i++) ids[1 + i] = bpe[i];
        ids[1 + kept] = eos;
        return new Encoding(ids, kept + 2, bpe.length - kept);
    }

    /**
     * transformers' {@code BasicTokenizer(strip_accents=False, do_split_on_punc=False).tokenize}, joined by spaces:
     * NUL, U+FFFD and control/format characters ({@code C*} except tab, newline, CR) dropped, other whitespace
     * ({@code Zs}, tab, newline, CR) made a space, spaces put around CJK ideographs, NFC, split on whitespace, lower case.
     */
    static String clean(String text) {
        StringBuilder s = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) return;
            if (isWhitespace(cp)) s.append(' ');
            else if (isCjk(cp)) s.append(' ').appendCodePoint(cp).append(' ');
            else s.appendCodePoint(cp);
        });
        String nfc = Normalizer.normalize(s, Normalizer.Form.NFC);
        StringJoiner out = new StringJoiner(" ");
        // Python's str.split(): what survives the cleaning of its whitespace is ' ', U+2028 and U+2029.
        for (String token : nfc.split("[ \\u2028\\u2029]+"))
            if (!token.isEmpty()) out.add(token.toLowerCase(Locale.ROOT));
        return out.toString();
    }

    private static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') return false;
        int t = Character.getType(cp);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.SURROGATE || t == Character.PRIVATE_USE
                || t == Character.UNASSIGNED;
    }

    private static boolean isWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    private static boolean isCjk(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    /**
     * {@code CLIPTokenizer.bpe}: the word's symbols with {@code </w>} on the last, then the adjacent pair of lowest rank
     * merged everywhere (left to right) until no ranked pair is left. The two special tokens are never split.
     */
    private String[] bpe(String token) {
        if (token.equals(BOS) || token.equals(EOS)) return new String[]{token};
        String[] hit = cache.get(token);
        if (hit != null) return hit;
        List<String> word = new ArrayList<>(token.length());
        for (int i = 0; i < token.length(); i++) word.add(String.valueOf(token.charAt(i)));
        word.set(word.size() - 1, word.get(word.size() - 1) + "</w>");
        while (word.size() > 1) {
            int best = Integer.MAX_VALUE;
            String first = null, second = null;
            for (int i = 0; i + 1 < word.size(); i++) {
                Integer r = ranks.get(word.get(i) + " " + word.get(i + 1));
                if (r != null && r < best) {
                    best = r;
                    first = word.get(i);
                    second = word.get(i + 1);
                }
            }
            if (first == null) break;
            List<String> merged = new ArrayList<>(word.size());
            for (int i = 0; i < word.size(); ) {
                if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i += 2;
                } else {
                    merged.add(word.get(i++));
                }
            }
            word = merged;
        }
        String[] out = word.toArray(new String[0]);
        cache.put(token, out);
        return out;
    }
}
