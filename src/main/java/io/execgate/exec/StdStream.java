package io.execgate.exec;

/** The two output streams of a process, with their channel numbers in the Kubernetes channel protocol. */
public enum StdStream {
    STDOUT(1), STDERR(2);

    private final int channel;

    StdStream(int channel) {
        this.channel = channel;
    }

    public int channel() {
        return channel;
    }
}
