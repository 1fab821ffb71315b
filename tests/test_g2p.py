"""G2P per language against the phonemes upstream Kokoro's own pipeline (KPipeline, no model) gives
for the same text, 20 sentences or more each; English punctuation and articles read as en_core_web_sm's
tags would have them read; unsupported languages answer 400."""

from concurrent.futures import ThreadPoolExecutor
from unittest.mock import patch

import pytest
import spacy
from kokoro.pipeline import KPipeline

from frontend.errors import InvalidRequest
from frontend.reading.languages import language_of
from frontend.reading.tagger import RULE_TAGGER, english_pipeline

KEPT_PUNCTUATION = ",.?!;:“”()"
SENTENCES = {
    "a": ["Doctor Smith paid twelve dollars and fifty cents, then he left.", "A dog and a cat sat on the mat.",
          "Where are you going to spend the summer?", "I think it's going to rain, so take an umbrella.",
          'She said, "I will be there at eight."', "The quick brown fox jumps over the lazy dog.",
          "Could you pass me the salt, please?", "We walked to the station; the train was late.",
          "He bought an apple, a pear, and three oranges.", "Wait — did you hear that?",
          "My sister lives in a small town near the coast.", "It was the best of times, it was the worst of times.",
          "Why did the chicken cross the road?", "I'd like to order a coffee and a slice of cake.",
          "They moved to Chicago in the spring of that year.", "Tom (my neighbor) fixed the fence yesterday.",
          "Are you sure? I can't believe it!", "The meeting starts at nine, but I will be a little late.",
          "Honestly, I have no idea what you mean…", "To be, or not to be: that is the question.",
          "She wants to learn to play the piano.", "Is it a bird, a plane, or something else?",
          "I am going to the store; do you need anything?", '"Hello," she whispered, "is anyone home?"'],
    "b": ["The colour of the sky changed at dusk.", "We queued for an hour, then gave up.",
          "Would you like a cup of tea?", "I travelled to Manchester by train last week.",
          "The theatre was full, so we went to a pub instead.", "Have you got a spare pen, by any chance?",
          "Mind the gap between the train and the platform.", "It's rather cold today; bring a jumper.",
          'He whispered, "Don\'t tell anyone."', "A fortnight ago, I met an old friend in the park.",
          "Shall we go to the cinema tonight?", "The lift is out of order, I'm afraid.",
          "She organised a picnic by the river.", "Where did you put the biscuits?",
          "I reckon it will rain later, don't you?", "The flat (on the second floor) has two bedrooms.",
          "Right, let's get started: first, the agenda.", "What a lovely garden you have!",
          "He's been to London twice — once in winter, once in summer.",
          "They apologised for the delay and offered us a refund.", "Is it far to the nearest chemist?",
          "I'd rather walk than take the bus."],
    "e": ["Hola, ¿cómo estás?", "Me llamo Ana y vivo en Madrid.", "El perro corre por el parque.",
          "Mañana vamos a la playa.", "¿Dónde está la estación de tren?", "Me gusta mucho leer libros.",
          "La casa es grande y bonita.", "Hace mucho calor en verano.", "Quiero un café con leche, por favor.",
          "Los niños juegan en la calle.", "Ella trabaja en un hospital.", "Necesito comprar pan y queso.",
          "El tren sale a las ocho.", "Mi hermano estudia ingeniería.", "¡Qué día tan bonito!",
          "Vamos al cine esta noche.", "La comida está deliciosa.", "No entiendo la pregunta.",
          "Hablamos español e inglés.", "Gracias por tu ayuda."],
    "f": ["Bonjour, comment allez-vous ?", "Je m'appelle Marie.", "Le chat dort sur le canapé.",
          "Nous allons à la plage demain.", "Où est la gare, s'il vous plaît ?", "J'aime beaucoup lire.",
          "La maison est grande et belle.", "Il fait très chaud en été.", "Un café au lait, s'il vous plaît.",
          "Les enfants jouent dans le jardin.", "Elle travaille à l'hôpital.", "Je dois acheter du pain.",
          "Le train part à huit heures.", "Mon frère étudie la physique.", "Quelle belle journée !",
          "Allons au cinéma ce soir.", "Le repas est délicieux.", "Je ne comprends pas la question.",
          "Nous parlons français et anglais.", "Merci pour votre aide."],
    "h": ["नमस्ते, आप कैसे हैं?", "मेरा नाम राम है।", "बिल्ली सो रही है।", "हम कल समुद्र तट जाएंगे।",
          "रेलवे स्टेशन कहाँ है?", "मुझे किताबें पढ़ना पसंद है।", "घर बड़ा और सुंदर है।", "गर्मी में बहुत गर्मी होती है।",
          "एक कप चाय, कृपया।", "बच्चे बगीचे में खेल रहे हैं।", "वह अस्पताल में काम करती है।",
          "मुझे रोटी खरीदनी है।", "ट्रेन आठ बजे निकलती है।", "मेरा भाई विज्ञान पढ़ता है।", "कितना सुंदर दिन है!",
          "चलो आज रात फिल्म देखें।", "खाना बहुत स्वादिष्ट है।", "मुझे सवाल समझ नहीं आया।",
          "हम हिंदी और अंग्रेज़ी बोलते हैं।", "आपकी मदद के लिए धन्यवाद।"],
    "i": ["Ciao, come stai?", "Mi chiamo Luca.", "Il gatto dorme sul divano.", "Domani andiamo al mare.",
          "Dov'è la stazione?", "Mi piace molto leggere.", "La casa è grande e bella.", "D'estate fa molto caldo.",
          "Un caffè, per favore.", "I bambini giocano nel giardino.", "Lei lavora in ospedale.",
          "Devo comprare il pane.", "Il treno parte alle otto.", "Mio fratello studia fisica.",
          "Che bella giornata!", "Andiamo al cinema stasera.", "Il pranzo è delizioso.",
          "Non capisco la domanda.", "Parliamo italiano e inglese.", "Grazie per l'aiuto."],
    "p": ["Olá, tudo bem?", "Meu nome é João.", "O gato dorme no sofá.", "Amanhã vamos à praia.",
          "Onde fica a estação?", "Eu gosto muito de ler.", "A casa é grande e bonita.", "No verão faz muito calor.",
          "Um cafezinho, por favor.", "As crianças brincam no jardim.", "Ela trabalha no hospital.",
          "Preciso comprar pão.", "O trem sai às oito.", "Meu irmão estuda física.", "Que dia lindo!",
          "Vamos ao cinema hoje à noite.", "A comida está deliciosa.", "Não entendi a pergunta.",
          "Falamos português e inglês.", "Obrigado pela ajuda."],
    "j": ["こんにちは、お元気ですか。", "私の名前は田中です。", "猫がソファで寝ています。", "明日は海に行きます。",
          "駅はどこですか？", "本を読むのが好きです。", "この家は大きくてきれいです。", "夏はとても暑いです。",
          "コーヒーを一杯ください。", "子供たちは公園で遊んでいます。", "彼女は病院で働いています。",
          "パンを買わなければなりません。", "電車は八時に出ます。", "兄は物理を勉強しています。",
          "なんていい天気でしょう！", "今夜映画を見に行きましょう。", "料理はとてもおいしいです。",
          "質問がわかりません。", "日本語と英語を話します。", "手伝ってくれてありがとう。"],
    "z": ["你好，今天天气很好。", "我叫小明。", "猫在沙发上睡觉。", "明天我们去海边。", "火车站在哪里？",
          "我很喜欢看书。", "房子又大又漂亮。", "夏天非常热。", "请给我一杯茶。", "孩子们在花园里玩。",
          "她在医院工作。", "我需要买面包。", "火车八点出发。", "我哥哥学习物理。", "多么美好的一天！",
          "我们今晚去看电影吧。", "饭菜很好吃。", "我不明白这个问题。", "我们说中文和英文。", "谢谢你的帮助。"],
}
CASES = [(language, sentence) for language, sentences in SENTENCES.items() for sentence in sentences]


def upstream_pipeline(language: str) -> KPipeline:
    """Upstream's KPipeline without a model. For English, its misaki G2P would download spaCy's
    en_core_web_sm (not on PyPI; no network here), so spaCy hands it the pipeline ours runs on instead
    (english_pipeline(): rule-based tags on blank English). The English comparison thus covers misaki's
    G2P under KPipeline's own text splitting and phoneme joining, not en_core_web_sm's tags."""
    if language not in ("a", "b"):
        return KPipeline(lang_code=language, repo_id="hexgrad/Kokoro-82M", model=False)
    nlp = english_pipeline()
    with patch("spacy.util.is_package", return_value=True), patch("spacy.load", return_value=nlp) as load:
        pipeline = KPipeline(lang_code=language, repo_id="hexgrad/Kokoro-82M", model=False)
    load.assert_called_once()
    return pipeline


@pytest.fixture(scope="module")
def upstream():
    pipelines = {}

    def phonemes(language: str, text: str) -> str:
        if language not in pipelines:
            pipelines[language] = upstream_pipeline(language)
        return " ".join(result.phonemes for result in pipelines[language](text))
    return phonemes


def test_twenty_sentences_per_language():
    assert all(len(sentences) >= 20 for sentences in SENTENCES.values())


@pytest.mark.parametrize("language, sentence", CASES, ids=[f"{lang}:{s[:12]}" for lang, s in CASES])
def test_phonemes_match_upstream_pipeline(phonemizer, upstream, language, sentence):
    ours = phonemizer.phonemize(phonemizer.normalized(sentence, language), language).strip()
    assert ours == upstream(language, sentence).strip()
    assert phonemizer.tokens(ours)


@pytest.mark.parametrize("language", ["a", "b"])
def test_english_sentences_are_left_alone_by_normalization(phonemizer, language):
    """Upstream is given the raw sentence, ours the normalized one: the same text, so the comparison holds."""
    assert [s for s in SENTENCES[language] if phonemizer.normalized(s, language) != s] == []


@pytest.mark.parametrize("language", ["a", "b"])
@pytest.mark.parametrize("text", ["Doctor Smith paid twelve dollars and fifty cents, then he left.",
                                  "Wait; are you sure? Yes: I am! Then, we go.",
                                  "He said, “no,” and walked away (slowly)."])
def test_english_phonemes_keep_the_punctuation(phonemizer, language, text):
    """Commas, full stops and question marks are the model's cues for pauses and sentence ends; misaki
    keeps a token's punctuation only when it carries a punctuation tag."""
    phonemes = phonemizer.phonemize(text, language)
    assert [c for c in phonemes if c in KEPT_PUNCTUATION] == [c for c in text if c in KEPT_PUNCTUATION]


@pytest.mark.parametrize("language", ["a", "b"])
def test_the_article_a_is_read_as_a_schwa_and_the_letter_a_by_name(phonemizer, language):
    words = phonemizer.phonemize("A dog and a cat chose plan A, then said: A, B or C?", language).split()
    assert [words[0], words[3], words[7], words[10]] == ["ɐ", "ɐ", "ˈA,", "ˈA,"]


def test_rule_tags_tell_dashes_from_hyphens_and_quotes_from_apostrophes():
    doc = english_pipeline()("I said 'no' to the dogs' well-known tricks - twice.")
    tags = {(token.i, token.text): token.tag_ for token in doc if token.tag_}
    assert tags == {(0, "I"): "PRP", (2, "'"): "``", (4, "'"): "''", (5, "to"): "TO", (6, "the"): "DT",
                    (8, "'"): "POS", (10, "-"): "HYPH", (13, "-"): ":", (15, "."): "."}


@pytest.mark.skipif(spacy.util.is_package("en_core_web_sm"), reason="en_core_web_sm is installed")
def test_without_en_core_web_sm_english_is_tagged_by_rules():
    assert english_pipeline().pipe_names == [RULE_TAGGER]


@pytest.mark.skipif(not spacy.util.is_package("en_core_web_sm"), reason="en_core_web_sm is not installed")
def test_en_core_web_sm_tags_english_when_installed(phonemizer):
    assert "tagger" in english_pipeline().pipe_names
    assert phonemizer.phonemize("A dog.", "a").split()[0] == "ɐ"


def test_concurrent_requests_in_several_languages_get_their_own_phonemes(phonemizer):
    """Requests phonemize in worker threads at once; espeak-ng (Spanish, French, English words outside
    the lexicon) is one state per process, so unguarded calls failed or returned another text's words."""
    texts = [("e", "Me llamo Ana y vivo en Madrid."), ("f", "Le chat dort sur le canapé."),
             ("a", "Quizzaciously snorgled the flurbs."), ("f", "Nous allons à la plage demain."),
             ("e", "Hola, ¿cómo estás?"), ("a", "Zyxqwerty blorpish grognak.")]
    alone = {text: phonemizer.phonemize(text, language) for language, text in texts}
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda item: (item[1], phonemizer.phonemize(item[1], item[0])), texts * 40))
    assert [text for text, phonemes in together if phonemes != alone[text]] == []


@pytest.mark.parametrize("request_language, key", [("es", "e"), ("fr-FR", "f"), ("pt-BR", "p"), ("zh", "z"),
                                                   ("en-GB", "b"), ("en", "a"), ("it", "i"), ("hi", "h"),
                                                   ("ja", "j"), ("a", "a"), ("b", "b"), ("z", "z"), ("j", "j")])
def test_request_languages_select_the_g2p(request_language, key):
    assert language_of(None, request_language, "af_heart") == key


def test_voice_prefix_selects_the_language_when_none_is_given():
    assert language_of(None, None, "ef_dora") == "e"
    assert language_of(None, None, "zf_xiaobei") == "z"
    assert language_of(None, None, "bm_george") == "b"


@pytest.mark.parametrize("unsupported", ["ko", "de", "ru", "xx-YY"])
def test_unsupported_languages_are_refused_by_name(unsupported):
    with pytest.raises(InvalidRequest, match=f"language '{unsupported.lower()}' is not supported") as e:
        language_of(unsupported, None, "af_heart")
    assert e.value.param == "lang_code"
