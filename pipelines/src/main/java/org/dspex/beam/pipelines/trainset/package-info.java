/**
 * The Java side of {@code dspex trainset}: the labelling program ({@code dspex_worker.trainset:build})
 * run by {@code DSPexPredict}, accepted records to the output, rejected ones to the failures file
 * as {@value org.dspex.beam.pipelines.trainset.TrainsetStep#REJECTED}, and the input keys written
 * next to the output.
 */
package org.dspex.beam.pipelines.trainset;
