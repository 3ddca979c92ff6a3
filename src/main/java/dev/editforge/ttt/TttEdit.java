package dev.editforge.ttt;

/**
 * One self-edit to score: the text a LoRA adapter is trained on (SEAL's train sequences are built
 * from it).
 */
public record TttEdit(String editId, String articleId, String completion) {}
