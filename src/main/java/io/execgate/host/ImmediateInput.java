package io.execgate.host;

import java.io.IOException;

/**
 * A process's stdin that can also take bytes without waiting. Input that comes while nothing is queued for the
 * process goes straight in from the thread it came on, instead of being handed to the exec's writer thread: one
 * thread wake-up fewer per keystroke or message, which is what a thousand busy sessions pay for most.
 */
public interface ImmediateInput {

    /**
     * Writes as much of the range as goes in without waiting, possibly nothing.
     *
     * @return how many bytes were written: 0 when the process's input is full (or this end cannot tell)
     * @throws IOException when the process's input is closed (the process closed it or exited)
     */
    int writeWithoutWaiting(byte[] data, int offset, int length) throws IOException;
}
