package io.execgate.host.hcs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Go's {@code EscapeArg} rules, which hcsshim uses and {@code CommandLineToArgvW} reverses. */
class WindowsCommandLineTest {

    @Test
    void argumentsWithoutSpecialCharactersStayAsTheyAre() {
        assertThat(WindowsCommandLine.escape("a")).isEqualTo("a");
        assertThat(WindowsCommandLine.escape("a\\b")).as("a lone backslash").isEqualTo("a\\b");
        assertThat(WindowsCommandLine.escape("\\")).isEqualTo("\\");
        assertThat(WindowsCommandLine.escape("new\nline")).as("a newline does not quote").isEqualTo("new\nline");
    }

    @Test
    void spacesAndTabsQuoteAndTrailingBackslashesDouble() {
        assertThat(WindowsCommandLine.escape("a b")).isEqualTo("\"a b\"");
        assertThat(WindowsCommandLine.escape("a\tb")).isEqualTo("\"a\tb\"");
        assertThat(WindowsCommandLine.escape("a b\\")).isEqualTo("\"a b\\\\\"");
        assertThat(WindowsCommandLine.escape("C:\\Program Files\\x")).isEqualTo("\"C:\\Program Files\\x\"");
    }

    @Test
    void quotesAreEscapedAndTheBackslashesBeforeThemDoubled() {
        assertThat(WindowsCommandLine.escape("a\"b")).isEqualTo("a\\\"b");
        assertThat(WindowsCommandLine.escape("a\\\"b")).isEqualTo("a\\\\\\\"b");
        assertThat(WindowsCommandLine.escape("say \"hi\"")).isEqualTo("\"say \\\"hi\\\"\"");
    }

    @Test
    void anEmptyArgumentIsTwoQuotesAndArgumentsJoinWithOneSpace() {
        assertThat(WindowsCommandLine.escape("")).isEqualTo("\"\"");
        assertThat(WindowsCommandLine.join(List.of("cmd", "/c", "echo hi", ""))).isEqualTo("cmd /c \"echo hi\" \"\"");
    }
}
