package io.execgate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.sun.net.httpserver.HttpServer;
import io.execgate.support.Api;
import io.execgate.support.Browser;
import io.execgate.support.TestContainers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.json.JsonMapper;

/**
 * The console, the terminal and Swagger UI in a real Chromium: sign in, see the host and a runc container this
 * test starts, open a terminal into it, type, resize, flood it, exit; see that a terminal another site opens
 * asks before it runs anything; and run an exec from Swagger UI.
 */
@Tag("browser")
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
class ConsoleBrowserIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Path DIR = tempDir();
    private static final Path ROOT = DIR.resolve("runc");

    @LocalServerPort
    int port;
    @Autowired
    RestTestClient http;
    Browser browser;

    @DynamicPropertySource
    static void roots(DynamicPropertyRegistry registry) {
        registry.add("execgate.backends.oci.roots", ROOT::toString);
    }

    @BeforeAll
    static void startContainer() throws IOException {
        String why = Browser.unavailableBecause();
        assumeTrue(why == null, () -> "skipped: " + why);
        String noContainers = TestContainers.unavailableBecause("runc");
        assumeTrue(noContainers == null, () -> "skipped: " + noContainers);
        TestContainers.start("runc", ROOT, TestContainers.bundle(DIR.resolve("bundle")), "web1");
    }

    @AfterAll
    static void removeContainer() throws IOException {
        TestContainers.removeAll("runc", ROOT, DIR);
    }

    @BeforeEach
    void openBrowser() throws IOException {
        browser = Browser.start(1280, 800);
    }

    @AfterEach
    void closeBrowser() throws IOException {
        browser.close();
    }

    @Test
    void signInSeeTheTargetsAndWorkInATerminal() throws Exception {
        new Api(http).run("{\"command\": [\"sh\", \"-c\", \"exit 5\"]}");
        var driver = browser.driver();
        driver.get(base() + "/");

        // A token the service does not know is refused on the page, and nothing is kept.
        WebElement tokenInput = browser.await(WAIT, d -> visible(d.findElement(By.id("token"))));
        tokenInput.sendKeys("not-a-token", Keys.ENTER);
        String error = browser.await(WAIT, d -> text(d.findElement(By.id("sign-in-error"))));
        assertThat(error).contains("not accepted");
        assertThat(browser.script("return sessionStorage.getItem('execgate.token')")).isNull();

        tokenInput.clear();
        tokenInput.sendKeys(Api.ADMIN_TOKEN, Keys.ENTER);
        browser.await(WAIT, d -> visible(d.findElement(By.id("console"))));
        assertThat(browser.script("return sessionStorage.getItem('execgate.token')")).isEqualTo(Api.ADMIN_TOKEN);
        assertThat(driver.getCurrentUrl()).doesNotContain(Api.ADMIN_TOKEN);
        String facts = browser.await(WAIT, d -> text(d.findElement(By.id("host-facts"))));
        assertThat(facts).contains("linux/");
        WebElement container = browser.await(WAIT, d -> d.findElements(By.cssSelector("#containers tr[data-id='web1']"))
                .stream().findFirst().orElse(null));
        assertThat(container.getText()).contains("web1", "runc", "running");
        // The exec run before the page opened, with its exit code, in the refreshing list.
        browser.await(WAIT, d -> d.findElements(By.cssSelector("#execs tbody tr")).stream()
                .anyMatch(row -> row.getText().contains("sh -c exit 5")
                        && row.findElement(By.className("exit-code")).getText().equals("5")));
        browser.screenshot("console");
        // On a narrow window the page reflows: one column, nothing wider than the window.
        browser.resize(420, 800);
        browser.await(WAIT, d -> ((Number) browser.script("return document.documentElement.scrollWidth")).longValue()
                <= ((Number) browser.script("return document.documentElement.clientWidth")).longValue() ? true : null);
        browser.screenshot("console-narrow");
        browser.resize(1280, 800);

        // A reload keeps the session: the token is in the tab's session storage.
        driver.navigate().refresh();
        browser.await(WAIT, d -> visible(d.findElement(By.id("console"))));

        container = browser.await(WAIT, d -> d.findElement(By.cssSelector("#containers tr[data-id='web1']")));
        container.findElement(By.linkText("Open terminal")).click();
        browser.await(WAIT, d -> d.getCurrentUrl().contains("/terminal.html?target=container%2Fweb1") ? true : null);
        awaitStatus("connected");
        // Asked for in the console: no second question.
        assertThat(browser.script("return window.execgateTerminal.started")).isEqualTo("from the console");
        assertThat(browser.script("return window.execgateTerminal.transport")).isEqualTo("WebSocketStream");

        type("echo $((6*7))\n");
        awaitScreen("\n42\n");

        type("stty size\n");
        String first = awaitSize();
        browser.resize(900, 560);
        browser.await(WAIT, d -> !size().equals(first) ? true : null);
        String resized = size();
        type("clear; stty size\n");
        awaitScreen("\n" + resized + "\n");
        assertThat(resized).isNotEqualTo(first);
        browser.resize(1280, 800);
        browser.await(WAIT, d -> size().equals(first) ? true : null);
        type("clear; ls /bin | head -5; echo $((6*7))\n");
        awaitScreen("\n42\n");
        browser.screenshot("terminal");

        type("exit 3\n");
        awaitStatus("exit code 3");
        assertThat(((Number) browser.script("return window.execgateTerminal.exitCode")).intValue()).isEqualTo(3);
        Object closeCode = browser.await(WAIT, d -> browser.script("return window.execgateTerminal.closeCode"));
        assertThat(closeCode).isEqualTo(1000L);
    }

    @Test
    void aFloodOfOutputIsPacedByTheTerminalAndTheControlsStillRespond() throws Exception {
        signIn();
        browser.driver().get(base() + "/terminal.html?target=host&command=sh");
        runWhenAsked();
        awaitStatus("connected");
        type("yes | head -c 50000000; echo FLOOD$((40+2))\n");
        // While the flood is on its way the page takes input: this line is read by the shell when yes is done.
        type("echo AFTER$((1+1))\n");
        browser.await(Duration.ofMinutes(3), d -> screen().contains("FLOOD42") && screen().contains("AFTER2") ? true : null);

        @SuppressWarnings("unchecked")
        Map<String, Object> stats = (Map<String, Object>) browser.script("return window.execgateTerminal");
        long received = ((Number) stats.get("received")).longValue();
        long maxPending = ((Number) stats.get("maxPending")).longValue();
        assertThat(received).isGreaterThanOrEqualTo(50_000_000);
        // Never more than the high watermark (512 KiB) and one message (a relay chunk, 64 KiB) waits for xterm.js.
        assertThat(maxPending).isLessThanOrEqualTo(512 * 1024 + 64 * 1024 + 1);
        type("exit\n");
        awaitStatus("exit code 0");
    }

    /**
     * A page on another site sends the signed-in tab to the terminal with a command of its choosing: the terminal
     * shows the command and runs nothing until the user clicks Run.
     */
    @Test
    void aPageOnAnotherSiteCannotRunACommandThroughTheTerminal() throws Exception {
        Path marker = DIR.resolve("ran-" + System.nanoTime());
        String terminal = base() + "/terminal.html?target=host&command=touch&command="
                + URLEncoder.encode(marker.toString(), StandardCharsets.UTF_8);
        HttpServer elsewhere = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] page = ("<!doctype html><script>location = " + JsonMapper.builder().build()
                .writeValueAsString(terminal) + ";</script>").getBytes(StandardCharsets.UTF_8);
        elsewhere.createContext("/", exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/html");
            exchange.sendResponseHeaders(200, page.length);
            exchange.getResponseBody().write(page);
            exchange.close();
        });
        elsewhere.start();
        try {
            signIn();
            browser.driver().get("http://localhost:" + elsewhere.getAddress().getPort() + "/");
            browser.await(WAIT, d -> d.getCurrentUrl().startsWith(base() + "/terminal.html") ? true : null);
            WebElement asked = browser.await(WAIT, d -> visible(d.findElement(By.id("confirm"))));
            assertThat(asked.getText()).contains("host", "\"touch\"", marker.toString());
            assertThat(browser.script("return window.execgateTerminal.started")).isEqualTo("asked");
            assertThat(text(browser.driver().findElement(By.id("status")))).isEqualTo("waiting for you to run it");
            assertThat(marker).doesNotExist();
            assertThat(new Api(http).get("/api/v1/execs?limit=100").json().toString()).doesNotContain(marker.toString());
            browser.screenshot("terminal-asks");

            browser.driver().findElement(By.id("confirm-run")).click();
            awaitStatus("exit code 0");
            assertThat(browser.script("return window.execgateTerminal.started")).isEqualTo("confirmed");
            assertThat(marker).exists();
        } finally {
            elsewhere.stop(0);
        }
    }

    @Test
    void swaggerUiAuthorizesWithTheTokenAndRunsAnExec() throws Exception {
        var driver = browser.driver();
        driver.get(base() + "/swagger-ui.html");
        browser.await(WAIT, d -> d.findElement(By.cssSelector("button.authorize"))).click();
        WebElement value = browser.await(WAIT, d -> d.findElement(By.cssSelector(".modal-ux input")));
        value.sendKeys(Api.ADMIN_TOKEN);
        driver.findElement(By.cssSelector(".modal-ux button.authorize")).click();
        browser.await(WAIT, d -> d.findElement(By.cssSelector(".modal-ux button.btn-done"))).click();

        WebElement operation = browser.await(WAIT, d -> d.findElements(By.cssSelector(".opblock-post")).stream()
                .filter(op -> op.findElement(By.cssSelector(".opblock-summary-path")).getAttribute("data-path")
                        .equals("/api/v1/host/execs/run"))
                .findFirst().orElse(null));
        operation.findElement(By.cssSelector(".opblock-summary")).click();
        browser.await(WAIT, d -> operation.findElement(By.cssSelector("button.try-out__btn"))).click();
        WebElement body = browser.await(WAIT, d -> operation.findElement(By.cssSelector("textarea.body-param__text")));
        body.sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.DELETE);
        body.sendKeys("{\"command\": [\"sh\", \"-c\", \"echo from swagger; exit 4\"]}");
        operation.findElement(By.cssSelector("button.execute")).click();
        String response = browser.await(WAIT, d -> operation.findElements(By.cssSelector(".live-responses-table .response-col_description pre"))
                .stream().map(WebElement::getText).filter(t -> t.contains("exitCode")).findFirst().orElse(null));
        assertThat(response).contains("\"exitCode\": 4", "from swagger");
        assertThat(operation.findElement(By.cssSelector(".live-responses-table tbody .response-col_status")).getText())
                .contains("200");
        browser.screenshot("swagger-ui");
    }

    private void signIn() {
        browser.driver().get(base() + "/");
        browser.script("sessionStorage.setItem('execgate.token', arguments[0])", Api.ADMIN_TOKEN);
    }

    /** A terminal opened by its address asks before it runs its command: say yes. */
    private void runWhenAsked() {
        browser.await(WAIT, d -> visible(d.findElement(By.id("confirm"))));
        assertThat(browser.script("return window.execgateTerminal.started")).isEqualTo("asked");
        browser.driver().findElement(By.id("confirm-run")).click();
    }

    private void type(String keys) {
        WebElement input = browser.driver().findElement(By.cssSelector(".xterm-helper-textarea"));
        input.sendKeys(keys.replace("\n", Keys.ENTER.toString()));
    }

    /** What the terminal shows now, row by row. */
    private String screen() {
        return (String) browser.script("return [...document.querySelectorAll('.xterm-rows > div')]"
                + ".map(row => row.textContent.replace(/\\s+$/, '')).join('\\n')");
    }

    private void awaitScreen(String text) {
        browser.await(WAIT, d -> ("\n" + screen() + "\n").contains(text) ? true : null);
    }

    /** On a timeout, says what the page showed instead: the status, the terminal's counters and its screen. */
    private void awaitStatus(String text) {
        try {
            browser.await(WAIT, d -> text(d.findElement(By.id("status"))).equals(text) ? true : null);
        } catch (org.openqa.selenium.TimeoutException e) {
            throw new AssertionError("the status never said \"" + text + "\"; it says \""
                    + text(browser.driver().findElement(By.id("status"))) + "\"; the terminal's counters: "
                    + browser.script("return JSON.stringify(window.execgateTerminal)") + "; its screen:\n" + screen(), e);
        }
    }

    /** The terminal's size as {@code stty size} prints it: rows, then columns. */
    private String size() {
        @SuppressWarnings("unchecked")
        List<Number> rowsCols = (List<Number>) browser.script("return window.execgateTerminal.size()");
        return rowsCols.get(0).intValue() + " " + rowsCols.get(1).intValue();
    }

    private String awaitSize() {
        String expected = size();
        awaitScreen("\n" + expected + "\n");
        return expected;
    }

    private String base() {
        return "http://127.0.0.1:" + port;
    }

    private static WebElement visible(WebElement element) {
        return element.isDisplayed() ? element : null;
    }

    private static String text(WebElement element) {
        String text = element.getText();
        return text.isEmpty() ? null : text;
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("execgate-browser");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
