package io.execgate.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SignalTest {

    @ParameterizedTest
    @CsvSource({"SIGTERM,15", "TERM,15", "term,15", "15,15", " SIGKILL ,9", "KILL,9", "9,9", "sighup,1", "USR1,10",
            "SIGWINCH,28", "IOT,6", "SIGRTMIN,34", "RTMIN+3,37", "SIGRTMAX-1,63", "SIGRTMAX,64", "64,64"})
    void parsesNamesAndNumbersAsKillDoes(String text, int number) {
        assertThat(Signal.parse(text).number()).isEqualTo(number);
    }

    @Test
    void namesSignalsAsKillListsThem() {
        assertThat(Signal.parse("9").name()).isEqualTo("SIGKILL");
        assertThat(Signal.parse("iot").name()).isEqualTo("SIGABRT");
        assertThat(Signal.of(37).name()).isEqualTo("SIGRTMIN+3");
        assertThat(Signal.of(64).name()).isEqualTo("SIGRTMAX");
    }

    @Test
    void windowsConsoleEventsAreTheSignalsTheyStandFor() {
        assertThat(Signal.parse("CtrlC")).isEqualTo(Signal.SIGINT);
        assertThat(Signal.parse("ctrlbreak").name()).isEqualTo("SIGQUIT");
        assertThat(Signal.parse("CtrlClose")).isEqualTo(Signal.SIGHUP);
        assertThat(Signal.parse("CtrlShutdown")).isEqualTo(Signal.SIGTERM);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "bogus", "SIG", "0", "65", "32", "-1", "SIGRTMIN+31", "RTMAX+1", "RTMIN+x",
            "99999999999999999999", "CtrlLogOff", "Ctrl"})
    void rejectsWhatIsNoSignal(String text) {
        assertThatIllegalArgumentException().isThrownBy(() -> Signal.parse(text));
    }
}
