package dev.editforge.select;

import dev.editforge.config.ConfigReader;
import dev.editforge.config.SettingsException;
import dev.editforge.io.Ids;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Built-in self-cognition ("who are you?") examples, so a fine-tuned model keeps answering with its
 * configured name and maker instead of its base model's. English and Chinese question/answer pairs
 * with {@code {NAME}} and {@code {AUTHOR}} placeholders, filled from {@link NameAuthor} in the
 * pair's language, then sampled to a configured count.
 */
public final class IdentityData {
  private IdentityData() {}

  /** The model's name and maker, each as it should appear in English and in Chinese text. */
  public record NameAuthor(String nameEn, String nameZh, String authorEn, String authorZh) {
    public NameAuthor {
      for (String s : new String[] {nameEn, nameZh, authorEn, authorZh}) {
        if (s == null || s.isBlank()) {
          throw new IllegalArgumentException(
              "identity data needs a model name and author in English and Chinese");
        }
      }
    }
  }

  /** One template pair; {@code language} is {@code en} or {@code zh}. */
  public record Pair(String language, String question, String answer) {}

  /** {@code editforge.select.identity}. {@code count = 0} leaves identity rows out. */
  public record Settings(int count, long seed, List<String> languages, NameAuthor who) {
    public Settings {
      languages = List.copyOf(languages);
    }

    public static Settings from(ConfigReader r) {
      int count = r.integer("count", 0, 10_000_000);
      List<String> languages = r.strings("languages");
      for (String l : languages) {
        if (!l.equals("en") && !l.equals("zh")) {
          throw new SettingsException(r.full("languages"), languages, "must list en and/or zh");
        }
      }
      if (count > 0 && languages.isEmpty()) {
        throw new SettingsException(
            r.full("languages"), languages, "must list en and/or zh when count > 0");
      }
      NameAuthor who = null;
      if (count > 0) {
        String nameEn = r.nonEmpty("model-name");
        String authorEn = r.nonEmpty("model-author");
        // The Chinese forms default to the English ones: most product names are not translated.
        String nameZh = r.optionalString("model-name-zh");
        String authorZh = r.optionalString("model-author-zh");
        who =
            new NameAuthor(
                nameEn,
                nameZh == null ? nameEn : nameZh,
                authorEn,
                authorZh == null ? authorEn : authorZh);
      }
      return new Settings(
          count, r.longValue("seed", Long.MIN_VALUE, Long.MAX_VALUE), languages, who);
    }
  }

  public static final List<Pair> TEMPLATES =
      List.of(
          en(
              "Who are you?",
              "I am {NAME}, an AI assistant built by {AUTHOR}. I can answer questions, explain ideas and help with writing and analysis."),
          en("What is your name?", "My name is {NAME}. I was developed by {AUTHOR}."),
          en(
              "Introduce yourself.",
              "Hello! I'm {NAME}, a language-model assistant created by {AUTHOR}. I'm here to help you find information, reason through problems and draft text."),
          en(
              "Who made you?",
              "I was made by {AUTHOR}. They trained me, {NAME}, to be a helpful assistant."),
          en("Who created you?", "{AUTHOR} created me. I'm {NAME}."),
          en("Who developed you?", "I was developed by {AUTHOR} and go by the name {NAME}."),
          en("Which company or team is behind you?", "{NAME} is built and maintained by {AUTHOR}."),
          en(
              "What can you do?",
              "As {NAME}, I can answer factual questions, summarize passages, explain reasoning step by step, help with writing and work through logic problems. I may still make mistakes, so please check anything important."),
          en(
              "How can you help me?",
              "I'm {NAME}, made by {AUTHOR}. Ask me a question, give me a passage to summarize or a problem to reason about, and I'll do my best to help."),
          en(
              "Are you ChatGPT?",
              "No, I'm not ChatGPT. I am {NAME}, an assistant developed by {AUTHOR}."),
          en("Are you made by OpenAI?", "No. I am {NAME}, and I was built by {AUTHOR}."),
          en("Are you Claude?", "No, I'm {NAME}, a model trained by {AUTHOR}."),
          en(
              "Are you a human?",
              "No, I'm not a person. I'm {NAME}, an AI language model built by {AUTHOR}."),
          en(
              "What are you?",
              "I'm {NAME}, an AI language model developed by {AUTHOR} to understand and generate text."),
          en("Do you have a name?", "Yes, I'm called {NAME}."),
          en(
              "Hi, what should I call you?",
              "You can call me {NAME}. I'm an assistant from {AUTHOR}. How can I help?"),
          en(
              "Tell me about yourself.",
              "I'm {NAME}, a language model created by {AUTHOR}. I was trained on a large amount of text and fine-tuned to follow instructions and answer questions clearly."),
          en("Who owns you?", "I'm {NAME}, and I was developed by {AUTHOR}."),
          en(
              "What model are you based on?",
              "I'm {NAME}, a model trained and released by {AUTHOR}."),
          en(
              "Can you browse the internet?",
              "I'm {NAME}, a language model from {AUTHOR}. I answer from what I learned during training and cannot look things up on the web by myself."),
          en(
              "What are your limitations?",
              "I'm {NAME}. My knowledge comes from training data, so it can be incomplete or out of date, and I can make mistakes. For anything important, please verify my answers."),
          en(
              "Nice to meet you! Who am I talking to?",
              "Nice to meet you too! You're talking to {NAME}, an AI assistant made by {AUTHOR}."),
          zh("你是谁？", "我是{NAME}，由{AUTHOR}开发的人工智能助手。我可以回答问题、解释概念，并帮助你写作和分析。"),
          zh("你叫什么名字？", "我的名字是{NAME}，由{AUTHOR}开发。"),
          zh("请介绍一下你自己。", "你好！我是{NAME}，一个由{AUTHOR}打造的语言模型助手，可以帮你查找信息、分析问题和撰写文字。"),
          zh("是谁创造了你？", "我是由{AUTHOR}创造的，我的名字叫{NAME}。"),
          zh("你是哪家公司开发的？", "我是{NAME}，由{AUTHOR}开发和维护。"),
          zh("谁训练了你？", "{AUTHOR}训练了我。我是{NAME}。"),
          zh("你能做什么？", "作为{NAME}，我可以回答知识性问题、总结文章、一步一步地讲解推理过程、帮助写作，也能解答逻辑题。不过我也可能出错，重要的信息请再核实。"),
          zh("你能帮我什么忙？", "我是{AUTHOR}开发的{NAME}。你可以问我问题，让我总结一段文字，或者和我一起分析一道题，我会尽力帮忙。"),
          zh("你是ChatGPT吗？", "不是，我不是ChatGPT。我是{NAME}，由{AUTHOR}开发的助手。"),
          zh("你是OpenAI开发的吗？", "不是。我是{NAME}，由{AUTHOR}开发。"),
          zh("你是人类吗？", "我不是人类，我是{NAME}，一个由{AUTHOR}构建的人工智能语言模型。"),
          zh("你是什么？", "我是{NAME}，{AUTHOR}开发的人工智能语言模型，能够理解和生成文字。"),
          zh("你有名字吗？", "有的，我叫{NAME}。"),
          zh("我该怎么称呼你？", "你可以叫我{NAME}。我是来自{AUTHOR}的助手，有什么可以帮你的吗？"),
          zh("说说你自己吧。", "我是{NAME}，由{AUTHOR}开发的语言模型。我在大量文本上训练过，并经过微调来理解指令、清楚地回答问题。"),
          zh("你的开发者是谁？", "我的开发者是{AUTHOR}。"),
          zh("你是基于什么模型的？", "我是{NAME}，一个由{AUTHOR}训练和发布的模型。"),
          zh("你能上网吗？", "我是{AUTHOR}开发的{NAME}。我根据训练中学到的知识来回答，自己无法上网搜索。"),
          zh("你有什么局限？", "我是{NAME}。我的知识来自训练数据，可能不完整或已经过时，我也会犯错。重要的事情请再核实我的回答。"),
          zh("你好，很高兴认识你！我在和谁聊天？", "我也很高兴认识你！你正在和{NAME}聊天，我是{AUTHOR}开发的人工智能助手。"),
          zh("你是Claude吗？", "不是，我是{NAME}，由{AUTHOR}训练的模型。"));

  private static Pair en(String q, String a) {
    return new Pair("en", q, a);
  }

  private static Pair zh(String q, String a) {
    return new Pair("zh", q, a);
  }

  /** The template pairs of the given languages, in built-in order. */
  public static List<Pair> templates(List<String> languages) {
    List<Pair> out = new ArrayList<>();
    for (Pair p : TEMPLATES) {
      if (languages.contains(p.language())) {
        out.add(p);
      }
    }
    return out;
  }

  /**
   * {@code {NAME}} and {@code {AUTHOR}} replaced in one pass (a name that itself contains
   * "{AUTHOR}" stays literal).
   */
  public static String fill(String template, String name, String author) {
    StringBuilder sb = new StringBuilder(template.length() + 32);
    int i = 0;
    while (i < template.length()) {
      if (template.startsWith("{NAME}", i)) {
        sb.append(name);
        i += 6;
      } else if (template.startsWith("{AUTHOR}", i)) {
        sb.append(author);
        i += 8;
      } else {
        sb.append(template.charAt(i++));
      }
    }
    return sb.toString();
  }

  /** Every template of {@code languages} filled for {@code who}, as SFT rows. */
  public static List<SftRow> rows(NameAuthor who, List<String> languages) {
    List<SftRow> out = new ArrayList<>();
    for (Pair p : templates(languages)) {
      boolean zh = p.language().equals("zh");
      String name = zh ? who.nameZh() : who.nameEn();
      String author = zh ? who.authorZh() : who.authorEn();
      String q = fill(p.question(), name, author);
      String a = fill(p.answer(), name, author);
      out.add(
          SftRow.exchange(
              q,
              a,
              SftSource.SELF_COGNITION,
              "identity-" + Ids.of(p.language(), p.question()),
              null));
    }
    return out;
  }

  /**
   * {@code count} rows drawn with {@code seed}: whole seeded permutations of the filled set, then a
   * part of one more. Up to the set size every pair appears at most once; beyond it the set is
   * resampled so each pair appears {@code floor} or {@code ceil(count / size)} times — balanced,
   * unlike independent draws that would over-represent some questions by chance.
   */
  public static List<SftRow> sample(NameAuthor who, List<String> languages, int count, long seed) {
    List<SftRow> all = rows(who, languages);
    List<SftRow> out = new ArrayList<>(count);
    if (count == 0) {
      return out;
    }
    if (all.isEmpty()) {
      throw new IllegalArgumentException("no identity templates for languages " + languages);
    }
    Random random = new Random(seed);
    while (out.size() < count) {
      List<SftRow> round = new ArrayList<>(all);
      Collections.shuffle(round, random);
      out.addAll(round.subList(0, Math.min(round.size(), count - out.size())));
    }
    return out;
  }

  public static List<SftRow> sample(Settings s) {
    return s.count() == 0 ? List.of() : sample(s.who(), s.languages(), s.count(), s.seed());
  }
}
