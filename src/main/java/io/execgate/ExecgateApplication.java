package io.execgate;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** execgate: run commands in containers, utility VMs and on the host over HTTP. */
@SpringBootApplication(proxyBeanMethods = false)
@ConfigurationPropertiesScan
public class ExecgateApplication {

    public static void main(String[] args) {
        SpringApplication.run(ExecgateApplication.class, args);
    }
}
