package org.dit4j.training;

import org.dit4j.io.Images;

import java.awt.*;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The loss curve of a run as a PNG (log-scaled loss against step), from its log.csv. */
public final class LossPlot {
    private LossPlot() {}

    public static void write(Path png, List<double[]> points) throws IOException {
        int w = 640, h = 400, m = 50;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.drawRect(m, m / 2, w - m - 20, h - m - m / 2);
        g.drawString("training loss (log scale) vs step", m, 18);
        List<double[]> pts = points.stream().filter(p -> p[1] > 0 && Double.isFinite(p[1])).toList();
        if (pts.size() >= 1) {
            double x0 = pts.get(0)[0], x1 = Math.max(x0 + 1, pts.get(pts.size() - 1)[0]);
            double lo = pts.stream().mapToDouble(p -> Math.log10(p[1])).min().orElse(0), hi = pts.stream().mapToDouble(p -> Math.log10(p[1])).max().orElse(1);
            if (hi - lo < 1e-9) hi = lo + 1;
            g.drawString(String.format(Locale.ROOT, "%.3g", Math.pow(10, hi)), 2, m / 2 + 10);
            g.drawString(String.format(Locale.ROOT, "%.3g", Math.pow(10, lo)), 2, h - m);
            g.drawString(String.valueOf((long) x0), m, h - m + 15);
            g.drawString(String.valueOf((long) x1), w - 70, h - m + 15);
            g.setColor(new Color(0x1f77b4));
            int px = -1, py = -1;
            for (double[] p : pts) {
                int x = m + (int) ((p[0] - x0) / (x1 - x0) * (w - 2 * m - 20));
                int y = m / 2 + (int) ((hi - Math.log10(p[1])) / (hi - lo) * (h - m - m / 2));
                if (px >= 0) g.drawLine(px, py, x, y);
                else g.fillOval(x - 2, y - 2, 4, 4);
                px = x;
                py = y;
            }
        }
        g.dispose();
        Images.writePng(png, img);
    }
}
