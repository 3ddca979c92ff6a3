package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateTest {
  /** Meta-Llama-3.1-8B-Instruct's chat_template, verbatim: slicing, tests, filters and comments. */
  static final String LLAMA31_CHAT_TEMPLATE =
"""
{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\\n\\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\\n\\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
""";

  private static final List<ChatMessage> CONVERSATION =
      List.of(
          ChatMessage.system("Be brief."),
          ChatMessage.user("Hi  "),
          ChatMessage.assistant("Hello!"),
          ChatMessage.user("Why?"));

  @Test
  void qwen25TemplateRendersLikeTransformers() {
    ChatTemplate t = ChatTemplate.of(TinyModels.QWEN25_CHAT_TEMPLATE, null, "<|im_end|>");
    assertEquals(
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi  <|im_end|>\n"
            + "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n<|im_start|>assistant\n",
        t.render(CONVERSATION, true));
    assertEquals(
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            + "<|im_start|>user\nx<|im_end|>\n",
        t.render(List.of(ChatMessage.user("x")), false));
  }

  @Test
  void llama3TemplateTrimsContentAndStartsWithBos() {
    ChatTemplate t =
        ChatTemplate.of(TinyModels.LLAMA3_CHAT_TEMPLATE, "<|begin_of_text|>", "<|eot_id|>");
    assertEquals(
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nWhy?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n",
        t.render(CONVERSATION, true));
  }

  @Test
  void llama31TemplateWithItsDefaultDateAndSystemSlot() {
    ChatTemplate t = ChatTemplate.of(LLAMA31_CHAT_TEMPLATE, "<|begin_of_text|>", "<|eot_id|>");
    String header =
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";
    assertEquals(
        header
            + "Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nWhy?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n",
        t.render(CONVERSATION, true));
    assertEquals(
        header + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
        t.render(List.of(ChatMessage.user("Hi")), false));
    assertTrue(
        t.render(List.of(ChatMessage.user("Hi")), false, Map.of("date_string", "1 Jan 2025"))
            .contains("Today Date: 1 Jan 2025\n"));
  }

  @Test
  void raiseExceptionInATemplateBecomesAClearError() {
    ChatTemplate t = ChatTemplate.of(TinyModels.MISTRAL_CHAT_TEMPLATE, "<s>", "</s>");
    assertEquals(
        "<s>[INST] Hi [/INST]Hello!</s>[INST] Why? [/INST]",
        t.render(
            List.of(
                ChatMessage.user("Hi"), ChatMessage.assistant("Hello!"), ChatMessage.user("Why?")),
            true));
    ChatTemplate.ChatTemplateException e =
        assertThrows(ChatTemplate.ChatTemplateException.class, () -> t.render(CONVERSATION, true));
    assertEquals(
        "chat template model refused the conversation: "
            + "Conversation roles must alternate user/assistant/user/assistant/...",
        e.getMessage());
  }

  @Test
  void notBindsLooserThanIsTestsAsInJinja() {
    List<ChatMessage> one = List.of(ChatMessage.user("x"));
    ChatTemplate t =
        ChatTemplate.of(
            "{% if not d is defined %}undefined{% else %}{{ d }}{% endif %}|{{ 'not d is defined' }}|"
                + "{% if not d is not none %}none{% endif %}",
            "", "");
    assertEquals("undefined|not d is defined|none", t.render(one, false));
    assertEquals("v|not d is defined|", t.render(one, false, Map.of("d", "v")));
  }

  @Test
  void brokenTemplateSyntaxIsReported() {
    ChatTemplate t = ChatTemplate.of("{% for m in messages %}{{ m['content'] }", "", "");
    assertThrows(ChatTemplate.ChatTemplateException.class, () -> t.render(CONVERSATION, true));
  }

  @Test
  void builtInChatml() {
    assertEquals(
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi  <|im_end|>\n"
            + "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n<|im_start|>assistant\n",
        ChatTemplate.builtIn("chatml", null, null).render(CONVERSATION, true));
  }

  @Test
  void builtInAlpacaUsesTheSystemMessageOrItsDefaultPreamble() {
    ChatTemplate t = ChatTemplate.builtIn("alpaca", null, null);
    assertEquals(
        "Be brief.\n\n### Instruction:\nHi  \n\n### Response:\nHello!\n\n### Instruction:\nWhy?\n\n"
            + "### Response:\n",
        t.render(CONVERSATION, true));
    assertEquals(
        "Below is an instruction that describes a task. Write a response that appropriately completes the "
            + "request.\n\n### Instruction:\nAdd 2 and 2.\n\n",
        t.render(List.of(ChatMessage.user("Add 2 and 2.")), false));
  }

  @Test
  void builtInVicuna() {
    assertEquals(
        "Be brief. USER: Hi   ASSISTANT: Hello!</s>USER: Why? ASSISTANT:",
        ChatTemplate.builtIn("vicuna", null, null).render(CONVERSATION, true));
    assertEquals(
        "A chat between a curious user and an artificial intelligence assistant. The assistant gives "
            + "helpful, detailed, and polite answers to the user's questions. USER: Hi ASSISTANT:",
        ChatTemplate.builtIn("vicuna", "<s>", "</s>")
            .render(List.of(ChatMessage.user("Hi")), true));
  }

  @Test
  void builtInLlama2PutsTheSystemPromptInTheFirstInstBlock() {
    ChatTemplate t = ChatTemplate.builtIn("llama2", "<s>", "</s>");
    assertEquals(
        "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Why? [/INST]",
        t.render(CONVERSATION, true));
    assertEquals("<s>[INST] Hi [/INST]", t.render(List.of(ChatMessage.user("Hi")), true));
    assertThrows(
        ChatTemplate.ChatTemplateException.class,
        () -> t.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), true));
  }

  @Test
  void builtInGemmaFoldsTheSystemMessageIntoTheFirstUserTurn() {
    assertEquals(
        "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
            + "<start_of_turn>user\nWhy?<end_of_turn>\n<start_of_turn>model\n",
        ChatTemplate.builtIn("gemma", null, null).render(CONVERSATION, true));
  }

  @Test
  void builtInPlainIsJustTheContents() {
    assertEquals(
        "Be brief.\nHi  \nHello!\nWhy?\n",
        ChatTemplate.builtIn("plain", null, null).render(CONVERSATION, true));
  }

  @Test
  void unknownBuiltInListsTheChoices() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ChatTemplate.builtIn("zephyr", null, null));
    assertTrue(
        e.getMessage().contains("chatml, alpaca, vicuna, llama2, gemma, plain"), e.getMessage());
  }

  /** A billion passes of a loop that prints nothing: only the time limit can stop it. */
  static final String SILENT_NESTED_LOOPS =
      "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
          + "{% set x = i %}{% endfor %}{% endfor %}{% endfor %}{{ messages[0]['content'] }}";

  @Test
  void nestedLoopsStopAtTheTimeLimitWithAClearReason() {
    ChatTemplate t = ChatTemplate.of(SILENT_NESTED_LOOPS, null, null);
    assertEquals(ChatTemplate.DEFAULT_TIME_LIMIT, t.timeLimit());
    ChatTemplate.LimitExceeded e =
        assertThrows(
            ChatTemplate.LimitExceeded.class,
            () ->
                t.withTimeLimit(Duration.ofMillis(200))
                    .render(List.of(ChatMessage.user("Hi")), true));
    assertTrue(
        e.getMessage().startsWith("chat template model ran past its render time limit of 200 ms"),
        e.getMessage());
  }

  @Test
  void aLoopThatPrintsTooMuchStopsAtTheOutputLimit() {
    // 10^9 x 10 characters: today's renderer keeps growing the output until the heap is gone.
    ChatTemplate t =
        ChatTemplate.of(
            "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
                + "xxxxxxxxxx{% endfor %}{% endfor %}{% endfor %}",
            null, null);
    ChatTemplate.LimitExceeded e =
        assertThrows(
            ChatTemplate.LimitExceeded.class,
            () -> t.render(List.of(ChatMessage.user("Hi")), true));
    assertTrue(e.getMessage().contains("went over its size limit"), e.getMessage());
  }

  @Test
  void aStringThatDoublesEachPassStopsAtTheSizeLimit() {
    ChatTemplate t =
        ChatTemplate.of(
            "{% set s = 'ab' %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}{{ s|length }}",
            null, null);
    assertThrows(
        ChatTemplate.LimitExceeded.class, () -> t.render(List.of(ChatMessage.user("Hi")), true));
  }

  @Test
  void aClasspathIncludeRendersNothingAndFailsClearly() {
    // Hadoop's core-default.xml is on the classpath of every executor; core-site.xml holds keys.
    ChatTemplate t =
        ChatTemplate.of("{% include 'core-default.xml' %}{{ messages[0]['content'] }}", null, null);
    ChatTemplate.LimitExceeded e =
        assertThrows(
            ChatTemplate.LimitExceeded.class,
            () -> t.render(List.of(ChatMessage.user("Hi")), true));
    assertTrue(e.getMessage().contains("'core-default.xml' was not loaded"), e.getMessage());
    assertTrue(!e.getMessage().contains("<configuration>"), e.getMessage());
  }

  @Test
  void importsExtendsAndFilePathsAreRefusedToo(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("secret.j2");
    Files.writeString(file, "TOP-SECRET");
    for (String src :
        List.of(
            "{% include '" + file + "' %}",
            "{% include 'file://" + file + "' %}",
            "{% import 'core-default.xml' as m %}x",
            "{% from '" + file + "' import x %}y",
            "{% extends 'core-default.xml' %}")) {
      ChatTemplate t = ChatTemplate.of(src, null, null);
      ChatTemplate.LimitExceeded e =
          assertThrows(
              ChatTemplate.LimitExceeded.class,
              () -> t.render(List.of(ChatMessage.user("Hi")), true),
              src);
      assertTrue(e.getMessage().contains("may not include"), src + ": " + e.getMessage());
    }
  }

  @Test
  void checkUsableRefusesOnlyTemplatesOverALimit() {
    assertThrows(
        ChatTemplate.LimitExceeded.class,
        () ->
            ChatTemplate.of(SILENT_NESTED_LOOPS, null, null)
                .withTimeLimit(Duration.ofMillis(100))
                .checkUsable());
    assertThrows(
        ChatTemplate.LimitExceeded.class,
        () -> ChatTemplate.of("{% include 'core-default.xml' %}", null, null).checkUsable());
    // A refusal about the conversation is each request's own failure, not the template's.
    ChatTemplate.of("{{ raise_exception('system message required') }}", null, null).checkUsable();
    ChatTemplate.builtIn("chatml", null, null).checkUsable();
    ChatTemplate.of(LLAMA31_CHAT_TEMPLATE, "<|begin_of_text|>", "<|eot_id|>").checkUsable();
  }
}
