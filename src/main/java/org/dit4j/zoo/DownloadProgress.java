package org.dit4j.zoo;

/** Bytes downloaded so far of the total (total is -1 when the server does not say). */
@FunctionalInterface
public interface DownloadProgress {
    void update(long done, long total);
}
