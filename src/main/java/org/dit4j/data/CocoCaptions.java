package org.dit4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * An MS-COCO captions file ({@code captions_train2014.json}: {@code images} [{id, file_name}], {@code annotations}
 * [{image_id, caption}]) as U-ViT's {@code MSCOCODatabase} reads it through pycocotools: the images in increasing id
 * order, each with its captions in the file's annotation order. Images without a caption are left out (U-ViT's
 * training could not draw one for them) and counted.
 */
public record CocoCaptions(List<Image> images, int uncaptioned) {
    public record Image(long id, String fileName, List<String> captions) {}

    private static final String LAYOUT = " (COCO captions layout: images [{id, file_name}], annotations [{image_id, caption}])";

    public static CocoCaptions read(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such captions file");
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not valid JSON (" + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")");
        }
        if (root == null || !root.path("images").isArray()) throw new IllegalArgumentException(file + ": no 'images' list" + LAYOUT);
        if (!root.path("annotations").isArray()) throw new IllegalArgumentException(file + ": no 'annotations' list" + LAYOUT);
        TreeMap<Long, String> names = new TreeMap<>();
        int i = 0;
        for (JsonNode img : root.path("images")) {
            if (!img.path("id").canConvertToLong() || !img.path("id").isIntegralNumber() || !img.path("file_name").isTextual())
                throw new IllegalArgumentException(file + ": images[" + i + "] needs an integer 'id' and a 'file_name'" + LAYOUT);
            if (names.put(img.path("id").longValue(), img.path("file_name").textValue()) != null)
                throw new IllegalArgumentException(file + ": image id " + img.path("id").longValue() + " is listed twice");
            i++;
        }
        Map<Long, List<String>> captions = new HashMap<>();
        i = 0;
        for (JsonNode a : root.path("annotations")) {
            if (!a.path("image_id").isIntegralNumber() || !a.path("caption").isTextual())
                throw new IllegalArgumentException(file + ": annotations[" + i + "] needs an integer 'image_id' and a 'caption'" + LAYOUT);
            captions.computeIfAbsent(a.path("image_id").longValue(), k -> new ArrayList<>()).add(a.path("caption").textValue());
            i++;
        }
        List<Image> images = new ArrayList<>();
        int uncaptioned = 0;
        for (var e : names.entrySet()) {
            List<String> c = captions.get(e.getKey());
            if (c == null) uncaptioned++;
            else images.add(new Image(e.getKey(), e.getValue(), List.copyOf(c)));
        }
        if (images.isEmpty()) throw new IllegalArgumentException(file + ": no image has a caption");
        return new CocoCaptions(List.copyOf(images), uncaptioned);
    }
}
