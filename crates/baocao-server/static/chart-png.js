// «Tải biểu đồ (PNG)»: the chart the server drew as SVG (the link's
// target), painted by the browser onto a white canvas at twice its size
// and saved as PNG. The browser's own fonts draw the Vietnamese labels, so
// the server needs none; the link stays hidden where scripts do not run,
// and the SVG link beside it still works there.
document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll("a[data-png]")) {
    link.hidden = false;
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      const answer = await fetch(link.href, { credentials: "same-origin" });
      if (!answer.ok) {
        link.textContent = "Không tải được biểu đồ, xin thử lại";
        return;
      }
      const disposition = answer.headers.get("content-disposition") || "";
      const svgName = (disposition.match(/filename="([^"]+)"/) || [])[1] || "bieu-do.svg";
      const svg = new DOMParser().parseFromString(await answer.text(), "image/svg+xml").documentElement;
      const [, , width, height] = (svg.getAttribute("viewBox") || "0 0 600 300").split(/[\s,]+/).map(Number);
      svg.setAttribute("width", width);
      svg.setAttribute("height", height);
      const image = new Image();
      image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(new XMLSerializer().serializeToString(svg));
      await image.decode();
      const scale = 2;
      const canvas = document.createElement("canvas");
      canvas.width = width * scale;
      canvas.height = height * scale;
      const context = canvas.getContext("2d");
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
      const save = document.createElement("a");
      save.href = URL.createObjectURL(png);
      save.download = svgName.replace(/\.svg$/, ".png");
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(save.href), 10000);
    });
  }
});
