// Read-along: the text shown word by word, the word being spoken highlighted against the audio clock.
// A word is {text, start, end} in seconds of the audio, with {from, to}, its characters in the input, when the
// server gives them; without them it is found in the text after the word before it.
export class ReadAlong {
  constructor(container) {
    this.container = container;
    this.show("");
  }

  // Starts over on `text`, the input as sent.
  show(text) {
    this.text = text;
    this.words = [];
    this.cursor = 0; // where the next word without offsets is looked for
    this.current = -1;
    this.container.replaceChildren(document.createTextNode(text));
    this.container.dataset.spoken = "";
  }

  // Words arrive in order, a chunk's at a time, ahead of their audio.
  add(words) {
    for (const word of words) {
      const span = this.place(word);
      if (span) this.words.push({...word, span});
    }
  }

  place(word) {
    let {from, to} = word;
    if (from === undefined) {
      from = this.text.toLowerCase().indexOf(word.text.toLowerCase(), this.cursor);
      if (from < 0) return null;
      to = from + word.text.length;
    }
    this.cursor = to;
    const span = document.createElement("span");
    const range = document.createRange();
    const [node, offset] = this.locate(from);
    const [endNode, endOffset] = this.locate(to);
    range.setStart(node, offset);
    range.setEnd(endNode, endOffset);
    try {
      range.surroundContents(span);
    } catch {
      return null; // overlaps a word already shown: timed, not drawn
    }
    return span;
  }

  // The text node and offset of the text's character `index`.
  locate(index) {
    const walker = document.createTreeWalker(this.container, NodeFilter.SHOW_TEXT);
    let seen = 0;
    while (walker.nextNode()) {
      const length = walker.currentNode.length;
      if (index <= seen + length) return [walker.currentNode, index - seen];
      seen += length;
    }
    return [this.container, this.container.childNodes.length];
  }

  // Highlights the word spoken at `seconds` of the audio, none between words.
  at(seconds) {
    const index = this.words.findIndex((w) => w.start <= seconds && seconds < w.end);
    if (index === this.current) return;
    this.words[this.current]?.span.classList.remove("current");
    this.current = index;
    if (index < 0) return;
    this.words[index].span.classList.add("current");
    const spoken = this.container.dataset.spoken;
    this.container.dataset.spoken = spoken ? `${spoken},${index}` : `${index}`;
  }
}
