# execgate's container image. Build: docker build -t execgate .   (no container engine runs on the project's
# build machines; ImageLayoutIT runs the jar with this image's layout, command line and environment instead)

FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
RUN ./mvnw -B -q dependency:go-offline
COPY src src
RUN ./mvnw -B -q package -Dmaven.test.skip=true \
 && java -Djarmode=tools -jar target/execgate-*.jar extract --layers --launcher --destination /layers

FROM eclipse-temurin:25-jre
# runc for the container backend (the node's containerd root is mounted in), setpriv for host execs as
# another user, curl for the health check, tini as the init that reaps orphans (see ENTRYPOINT).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends runc util-linux curl tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/execgate
# Layers in the order they change least to most, so a code change rebuilds only the last.
COPY --from=build /layers/dependencies/ ./
COPY --from=build /layers/spring-boot-loader/ ./
COPY --from=build /layers/snapshot-dependencies/ ./
COPY --from=build /layers/application/ ./
# The documented defaults; mount another config/ over it, or set EXECGATE_* variables.
COPY config/application.yaml config/application.yaml
ENV SERVER_ADDRESS=0.0.0.0 \
    EXECGATE_DATA_DIR=/var/lib/execgate
VOLUME /var/lib/execgate
EXPOSE 8080
# On the port SERVER_PORT sets, if any (with TLS on, override this with an https:// one).
HEALTHCHECK --interval=30s --timeout=5s CMD curl -fsS "http://127.0.0.1:${SERVER_PORT:-8080}/actuator/health/liveness" || exit 1
# The heap is three quarters of the container's memory limit (the JVM's default is a quarter): output limits
# are sized against it (running-output-limit defaults to a quarter of the heap).
# tini is PID 1: host execs leave their background children running (as docker exec does), and when one exits
# after its parent the kernel hands it to PID 1 to reap, which the JVM never does. -s makes tini a subreaper, so
# it reaps them too when it is not PID 1 (the chart's hostPID pods); it passes signals on to the JVM.
ENTRYPOINT ["tini", "-s", "--", "java", "--enable-native-access=ALL-UNNAMED", "-XX:MaxRAMPercentage=75", "org.springframework.boot.loader.launch.JarLauncher"]
