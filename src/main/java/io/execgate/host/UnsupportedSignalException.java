package io.execgate.host;

import java.io.IOException;

/** The target cannot take this signal (a Windows process takes four console events and SIGKILL). */
public class UnsupportedSignalException extends IOException {

    public UnsupportedSignalException(String message) {
        super(message);
    }
}
