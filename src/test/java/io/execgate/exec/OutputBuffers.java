package io.execgate.exec;

/** Reading a buffer whole in tests. */
final class OutputBuffers {

    private OutputBuffers() {
    }

    /** The retained bytes, oldest first. */
    static byte[] bytes(OutputBuffer buffer) {
        OutputBuffer.Retained retained = buffer.retainedNow();
        byte[] bytes = new byte[retained.length()];
        retained.read(0, bytes, 0, bytes.length);
        return bytes;
    }
}
