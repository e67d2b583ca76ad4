package org.dspex.beam.transforms.signature;

import java.io.Serializable;

/**
 * One field of a {@link Signature}: its name and DSPy type.
 *
 * @param name a Python identifier
 * @param type its type ({@code str} when the signature gives none)
 */
public record SignatureField(String name, FieldType type) implements Serializable {}
