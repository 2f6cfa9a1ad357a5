// A searchable picker of several units: an <input list=…> over the
// datalist of `unit_list.html` (each option a code, labelled with the name
// and the name without diacritics, so the browser finds «ngok bay»); a unit
// chosen becomes a line «code name» of the textarea named by data-target,
// which is what the form sends. Without this script the textarea still
// takes codes typed by hand.
document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[list][data-target]")) {
    const target = document.getElementById(input.dataset.target);
    const names = new Map(Array.from(input.list.options, (o) => [o.value, o.label.split(" · ")[0]]));
    input.addEventListener("change", () => {
      const code = input.value.trim();
      if (!names.has(code)) return;
      const lines = target.value.split("\n").filter((l) => l.trim() !== "");
      if (!lines.some((l) => l.split(" ")[0] === code)) lines.push(`${code} ${names.get(code)}`);
      target.value = lines.join("\n") + "\n";
      input.value = "";
    });
  }
});
