package io.execgate.api;

import java.lang.annotation.Annotation;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import io.swagger.v3.core.converter.AnnotatedType;
import io.swagger.v3.core.converter.ModelConverter;
import io.swagger.v3.core.converter.ModelConverterContext;
import io.swagger.v3.core.util.Json;
import io.swagger.v3.oas.models.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;

/**
 * Makes the document say what the records say: a component marked {@link Nullable} may be {@code null}
 * (OpenAPI 3.1 {@code type: [..., "null"]}), and in the records the service answers with, every other
 * component is always present ({@code required}). Typed clients then model {@code exitCode} as nullable
 * instead of turning "not exited yet" into 0. Request records (those with validation constraints) keep
 * springdoc's reading of their constraints.
 */
@Component
class NullableRecordConverter implements ModelConverter {

    @Override
    @SuppressWarnings({"rawtypes", "unchecked"})
    public @Nullable Schema resolve(AnnotatedType type, ModelConverterContext context, Iterator<ModelConverter> chain) {
        Schema resolved = chain.hasNext() ? chain.next().resolve(type, context, chain) : null;
        Class<?> raw = Json.mapper().constructType(type.getType()).getRawClass();
        if (resolved == null || !raw.isRecord() || !raw.getPackageName().startsWith("io.execgate")) {
            return resolved;
        }
        Schema model = resolved;
        if (resolved.get$ref() != null) {
            Map<String, Schema> defined = context.getDefinedModels();
            model = defined.get(resolved.get$ref().substring(resolved.get$ref().lastIndexOf('/') + 1));
        }
        if (model == null || model.getProperties() == null) {
            return resolved;
        }
        boolean request = Arrays.stream(raw.getRecordComponents()).anyMatch(NullableRecordConverter::isConstrained);
        for (RecordComponent component : raw.getRecordComponents()) {
            Schema property = (Schema) model.getProperties().get(component.getName());
            if (property == null) {
                continue;
            }
            if (component.getAnnotatedType().isAnnotationPresent(Nullable.class)) {
                if (property.get$ref() != null) {
                    // A reference takes no type of its own: null is the other branch of an anyOf.
                    Schema nullable = new Schema().anyOf(List.of(new Schema().$ref(property.get$ref()),
                            new Schema().types(new LinkedHashSet<>(List.of("null")))));
                    nullable.setDescription(property.getDescription());
                    model.getProperties().put(component.getName(), nullable);
                } else if (property.getTypes() != null && !property.getTypes().isEmpty()) {
                    property.addType("null");
                    if (property.getEnum() != null && !property.getEnum().contains(null)) {
                        property.getEnum().add(null); // an enum lists every allowed value, null included
                    }
                }
            } else if (!request && (model.getRequired() == null || !model.getRequired().contains(component.getName()))) {
                model.addRequiredItem(component.getName());
            }
        }
        return resolved;
    }

    /** Constraint annotations land on the record's fields (and accessors when they allow methods). */
    private static boolean isConstrained(RecordComponent component) {
        try {
            Annotation[] onField = component.getDeclaringRecord().getDeclaredField(component.getName()).getAnnotations();
            return Arrays.stream(onField).anyMatch(a -> a.annotationType().getPackageName().startsWith("jakarta.validation"));
        } catch (NoSuchFieldException e) {
            return false;
        }
    }
}
