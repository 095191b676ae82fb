#include "proxy/loading_page.h"

#include <nlohmann/json.hpp>

namespace blockyard::proxy {

// A JSON string literal is also a valid JavaScript string literal; escaping
// '<' keeps "</script>" from ending the script block.
static std::string js_string(const std::string& text) {
  std::string json = nlohmann::json(text).dump();
  std::string out;
  for (char c : json) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

static const char* kStyle = R"(
body{font-family:system-ui,sans-serif;display:flex;align-items:center;justify-content:center;
height:100vh;margin:0;background:#f6f7f9;color:#1f2933}
.box{text-align:center;max-width:36rem;padding:2rem}
.spinner{width:40px;height:40px;margin:0 auto 1.5rem;border:4px solid #d5dae1;
border-top-color:#3b6ea8;border-radius:50%;animation:spin 0.9s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
.error{color:#b42318}
pre{text-align:left;background:#fff;border:1px solid #d5dae1;padding:.75rem;overflow:auto;
max-height:40vh;font-size:.8rem}
)";

std::string render_loading_page(const std::string& display_name, const std::string& app_path,
                                long long timeout_ms) {
  std::string name = html_escape(display_name);
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  html += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  html += "<title>Starting " + name + " \u2014 blockyard</title><style>";
  html += kStyle;
  html += "</style></head><body><div class=\"box\" id=\"blockyard-loading\">";
  html += "<div class=\"spinner\" id=\"spinner\"></div>";
  html += "<h1 id=\"heading\">Starting " + name + "</h1>";
  html += "<p id=\"status\">Your session is being prepared\u2026</p>";
  html += "<p id=\"reason\" hidden></p><pre id=\"log\" hidden></pre></div>";
  html += "<script>(function(){\n";
  html += "var readyUrl=" + js_string(app_path + "__blockyard/ready") + ";\n";
  html += "var timeoutMs=" + std::to_string(timeout_ms) + ";\n";
  html += "var failedHeading=" + js_string(display_name + " could not start") + ";\n";
  html += R"(var started=Date.now();
function show(id,text){
  var e=document.getElementById(id);
  e.textContent=text;
  e.hidden=false;
}
function fail(message,reason,log){
  document.getElementById('spinner').style.display='none';
  document.getElementById('heading').textContent=failedHeading;
  document.title=failedHeading;
  var s=document.getElementById('status');
  s.className='error';
  s.textContent=message+' Please try again later. If this keeps happening, let the app\'s publisher know.';
  if(reason)show('reason','Why: '+reason+'.');
  if(log&&log.length)show('log',log.join('\n'));
}
function poll(){
  fetch(readyUrl,{cache:'no-store',credentials:'same-origin'})
    .then(function(r){return r.json();})
    .then(function(state){
      if(state.ready){location.reload();return;}
      if(state.restart){location.reload();return;}
      if(state.failed){fail(state.message||'The app could not start.',state.reason,state.log);return;}
      next();
    })
    .catch(next);
}
function next(){
  if(Date.now()-started>timeoutMs){
    fail('The app took too long to start.');
    return;
  }
  setTimeout(poll,250);
}
setTimeout(poll,100);
})();</script></body></html>
)";
  return html;
}

}  // namespace blockyard::proxy
