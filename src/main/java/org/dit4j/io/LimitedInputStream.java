package org.dit4j.io;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.LongFunction;

/** Counts the bytes read through it and refuses to hand out more than {@code limit} of them. */
final class LimitedInputStream extends FilterInputStream {
    private final long limit;
    private final LongFunction<RuntimeException> over;
    private long count;

    /** {@code over} makes the exception thrown once more than {@code limit} bytes have been asked for. */
    LimitedInputStream(InputStream in, long limit, LongFunction<RuntimeException> over) {
        super(in);
        this.limit = limit;
        this.over = over;
    }

    long count() {
        return count;
    }

    long remaining() {
        return limit - count;
    }

    @Override
    public int read() throws IOException {
        int c = in.read();
        if (c >= 0) advance(1);
        return c;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        // One byte past the limit is enough to tell "too long" from "exactly the limit".
        int n = in.read(b, off, (int) Math.min(len, remaining() + 1));
        if (n > 0) advance(n);
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long s = in.skip(Math.min(n, remaining() + 1));
        if (s > 0) advance(s);
        return s;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void advance(long n) {
        count += n;
        if (count > limit) throw over.apply(limit);
    }
}
