package io.execgate.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** helm/execgate linted and rendered with Helm itself (helm-java), its objects parsed and their key fields checked. */
class HelmChartTest {

    private static final Path CHART = Path.of("helm/execgate");

    @Test
    void theChartLintsClean() {
        LintResult lint = new Helm(CHART).lint().strict().call(); // lints with the default values
        assertThat(lint.isFailed()).as("helm lint: %s", lint.getMessages()).isFalse();
    }

    @Test
    void aLinuxNodeRunsPrivilegedWithTheNodesContainerdRootAndHealthProbes() {
        List<Map<String, Object>> objects = render("linux");
        Map<String, Object> daemonSet = only(objects, "DaemonSet");
        Map<String, Object> pod = at(daemonSet, "spec", "template", "spec");
        assertThat(pod.get("hostPID")).isEqualTo(true);
        assertThat(at(pod, "nodeSelector")).containsEntry("kubernetes.io/os", "linux");
        Map<String, Object> container = container(pod);
        assertThat(at(container, "securityContext")).containsEntry("privileged", true);
        assertThat(env(container)).containsEntry("SERVER_ADDRESS", "0.0.0.0")
                .containsEntry("EXECGATE_BACKENDS_OCI_ROOTS_0", "/run/containerd/runc/k8s.io")
                .containsEntry("EXECGATE_BACKENDS_LOCAL_ENABLED", "false");
        assertThat(list(container, "volumeMounts")).extracting(m -> m.get("mountPath"))
                .contains("/run/containerd/runc", "/run/containerd/io.containerd.runtime.v2.task");
        assertThat(at(container, "livenessProbe", "httpGet")).containsEntry("path", "/actuator/health/liveness");
        assertThat(at(container, "readinessProbe", "httpGet")).containsEntry("path", "/actuator/health/readiness");
        assertThat(at(container, "resources", "limits")).containsKey("memory");
        Map<String, Object> secret = only(objects, "Secret");
        assertThat(String.valueOf(at(secret, "data").get("admin-token"))).isNotBlank();
        assertThat(at(only(objects, "Service"), "spec")).containsEntry("internalTrafficPolicy", "Local");
        assertThat(objects).extracting(o -> o.get("kind")).doesNotContain("ServiceMonitor");
    }

    @Test
    void aWindowsNodeRunsAHostProcessPodWithHcs() {
        List<Map<String, Object>> objects = render("windows");
        Map<String, Object> pod = at(only(objects, "DaemonSet"), "spec", "template", "spec");
        assertThat(at(pod, "nodeSelector")).containsEntry("kubernetes.io/os", "windows");
        assertThat(at(pod, "securityContext", "windowsOptions")).containsEntry("hostProcess", true);
        assertThat(pod.get("hostNetwork")).isEqualTo(true);
        Map<String, Object> container = container(pod);
        assertThat(env(container)).containsEntry("EXECGATE_BACKENDS_HCS_ENABLED", "true")
                .containsEntry("EXECGATE_BACKENDS_OCI_ENABLED", "false");
        assertThat(container).doesNotContainKey("volumeMounts");
    }

    @Test
    void aServiceMonitorAndAGivenTokenAreRenderedWhenAskedForAndABadNodeFails() throws Exception {
        List<Map<String, Object>> objects = yaml(new Helm(CHART).template().withName("t")
                .set("serviceMonitor.enabled", true).set("adminToken", "given-token-0123456789")
                .set("serviceMonitor.metricsToken", "metrics-token-0123456789").call());
        Map<String, Object> monitor = only(objects, "ServiceMonitor");
        Map<String, Object> endpoint = list(at(monitor, "spec"), "endpoints").getFirst();
        assertThat(endpoint).containsEntry("path", "/actuator/prometheus");
        // Prometheus scrapes with a token of its own with the metrics role (it reads no command or output), never
        // the admin token.
        assertThat(endpoint.toString()).contains("key=metrics-token").doesNotContain("admin-token");
        Map<String, Object> secret = at(only(objects, "Secret"), "data");
        assertThat(secret).containsEntry("admin-token",
                java.util.Base64.getEncoder().encodeToString("given-token-0123456789".getBytes()));
        assertThat(secret).containsEntry("metrics-token",
                java.util.Base64.getEncoder().encodeToString("metrics-token-0123456789".getBytes()));
        Map<String, Object> container = list(at(only(objects, "DaemonSet"), "spec", "template", "spec"), "containers")
                .getFirst();
        assertThat(env(container)).containsEntry("EXECGATE_SECURITY_TOKENS_0_NAME", "prometheus")
                .containsEntry("EXECGATE_SECURITY_TOKENS_0_ROLES_0", "metrics")
                .containsEntry("EXECGATE_SECURITY_TOKENS_0_SHA256", java.util.HexFormat.of().formatHex(
                        java.security.MessageDigest.getInstance("SHA-256").digest("metrics-token-0123456789".getBytes())));
        assertThatThrownBy(() -> new Helm(CHART).template().withName("t").set("adminToken", TOKEN)
                .set("serviceMonitor.enabled", true).call()).hasMessageContaining("set serviceMonitor.metricsToken");
        assertThatThrownBy(() -> new Helm(CHART).template().withName("t").set("existingSecret", "ops-tokens")
                .set("serviceMonitor.enabled", true).call()).hasMessageContaining("metricsTokenSha256");
        assertThatThrownBy(() -> new Helm(CHART).template().withName("t").set("adminToken", TOKEN)
                .set("node", "plan9").call()).hasMessageContaining("node must be linux or windows");
        assertThatThrownBy(() -> new Helm(CHART).template().withName("t").call())
                .as("no token, no install").hasMessageContaining("set adminToken");
        List<Map<String, Object>> existing = yaml(new Helm(CHART).template().withName("t")
                .set("existingSecret", "ops-tokens").call());
        assertThat(existing).extracting(o -> o.get("kind")).doesNotContain("Secret");
        assertThat(existing.toString()).contains("name=ops-tokens");
    }

    /**
     * A token the service would refuse at start (SecurityProperties: 16 or more of a bearer token's characters) fails
     * here; one with every character a bearer token may hold renders.
     */
    @Test
    void aTokenTheServiceWouldRefuseFailsRendering() {
        for (String bad : List.of("short", "fifteen-chars-x", "a token with spaces in it", "Adm1n!Token#With$Symbols",
                "padding=in-the-middle-of-it")) {
            assertThatThrownBy(() -> new Helm(CHART).template().withName("t").set("adminToken", bad).call())
                    .as("adminToken %s", bad).hasMessageContaining("adminToken must be at least 16 characters of A-Z");
            assertThatThrownBy(() -> new Helm(CHART).template().withName("t").set("adminToken", TOKEN)
                    .set("serviceMonitor.enabled", true).set("serviceMonitor.metricsToken", bad).call())
                    .as("metricsToken %s", bad)
                    .hasMessageContaining("serviceMonitor.metricsToken must be at least 16 characters of A-Z");
        }
        assertThat(yaml(new Helm(CHART).template().withName("t").set("adminToken", "aZ09-._~+/aZ09-._~+/==").call()))
                .extracting(o -> o.get("kind")).contains("Secret");
        assertThat(render("linux")).extracting(o -> o.get("kind")).contains("Secret");
    }

    @Test
    void tlsMountsTheSecretAndEverythingThatCallsThePortSpeaksHttps() {
        List<Map<String, Object>> plain = render("linux");
        assertThat(list(at(only(plain, "Service"), "spec"), "ports").getFirst()).containsEntry("name", "http");
        List<Map<String, Object>> objects = yaml(new Helm(CHART).template().withName("t").set("adminToken", TOKEN)
                .set("tls.secretName", "execgate-tls").set("serviceMonitor.enabled", true)
                .set("serviceMonitor.metricsToken", "metrics-token-0123456789").call());
        Map<String, Object> pod = at(only(objects, "DaemonSet"), "spec", "template", "spec");
        Map<String, Object> container = container(pod);
        assertThat(env(container)).containsEntry("SERVER_SSL_BUNDLE", "execgate")
                .containsEntry("SPRING_SSL_BUNDLE_PEM_EXECGATE_KEYSTORE_CERTIFICATE", "file:/etc/execgate/tls/tls.crt")
                .containsEntry("SPRING_SSL_BUNDLE_PEM_EXECGATE_KEYSTORE_PRIVATEKEY", "file:/etc/execgate/tls/tls.key")
                .containsEntry("SPRING_SSL_BUNDLE_PEM_EXECGATE_RELOADONUPDATE", "true");
        assertThat(list(container, "volumeMounts")).anySatisfy(m -> assertThat(m)
                .containsEntry("name", "tls").containsEntry("mountPath", "/etc/execgate/tls").containsEntry("readOnly", true));
        assertThat(list(pod, "volumes")).anySatisfy(v -> assertThat(v).containsEntry("name", "tls")
                .containsEntry("secret", Map.of("secretName", "execgate-tls")));
        assertThat(list(container, "ports").getFirst()).containsEntry("name", "https");
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            assertThat(at(container, probe, "httpGet")).as(probe).containsEntry("scheme", "HTTPS")
                    .containsEntry("port", "https");
        }
        assertThat(list(at(only(objects, "Service"), "spec"), "ports").getFirst()).containsEntry("name", "https")
                .containsEntry("targetPort", "https");
        assertThat(list(at(only(objects, "ServiceMonitor"), "spec"), "endpoints").getFirst())
                .containsEntry("scheme", "https").containsEntry("port", "https");
        assertThatThrownBy(() -> new Helm(CHART).template().withName("t").set("adminToken", TOKEN)
                .set("node", "windows").set("tls.secretName", "execgate-tls").call())
                .hasMessageContaining("tls.secretName is for linux nodes");
    }

    private static final String TOKEN = "chart-test-token-0123456789";

    private static List<Map<String, Object>> render(String node) {
        return yaml(new Helm(CHART).template().withName("t").set("node", node).set("adminToken", TOKEN).call());
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> yaml(String manifest) {
        List<Map<String, Object>> objects = new ArrayList<>();
        for (Object document : new Yaml().loadAll(manifest)) {
            if (document instanceof Map<?, ?> map) {
                objects.add((Map<String, Object>) map);
            }
        }
        return objects;
    }

    private static Map<String, Object> only(List<Map<String, Object>> objects, String kind) {
        List<Map<String, Object>> found = objects.stream().filter(o -> kind.equals(o.get("kind"))).toList();
        assertThat(found).as("objects of kind %s", kind).hasSize(1);
        return found.getFirst();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> at(Map<String, Object> object, String... path) {
        Map<String, Object> current = object;
        for (String key : path) {
            assertThat(current).as("has %s", key).containsKey(key);
            current = (Map<String, Object>) current.get(key);
        }
        return current;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Map<String, Object> object, String key) {
        return (List<Map<String, Object>>) object.get(key);
    }

    private static Map<String, Object> container(Map<String, Object> pod) {
        return list(pod, "containers").getFirst();
    }

    private static Map<String, Object> env(Map<String, Object> container) {
        Map<String, Object> env = new java.util.LinkedHashMap<>();
        for (Map<String, Object> entry : list(container, "env")) {
            env.put((String) entry.get("name"), entry.get("value"));
        }
        return env;
    }
}
