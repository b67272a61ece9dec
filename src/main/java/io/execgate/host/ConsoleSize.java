package io.execgate.host;

/** A terminal's size in character cells: columns first, as in {@code TIOCSWINSZ} and the k8s resize message. */
public record ConsoleSize(int width, int height) {

    public ConsoleSize {
        if (width < 1 || width > 65535 || height < 1 || height > 65535) {
            throw new IllegalArgumentException("console size must be 1..65535 in both directions: " + width + "x" + height);
        }
    }
}
