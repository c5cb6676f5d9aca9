// The few interactive parts of the CNS pages, in plain JavaScript (no library, nothing fetched
// from outside): uploads through fetch, live job progress by polling /ui/jobs/{id}, and
// "synthesize now" without leaving the page. Every text from the server is inserted with
// textContent, never as HTML.
"use strict";

(function () {
  var POLL_MS = 700;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  // The login form, coming back to this page afterwards.
  function loginUrl() {
    return "/ui/login?next=" + encodeURIComponent(location.pathname + location.search);
  }

  // An error shown in ``element``; a lost login (401 from the server) also gets a link to log in again.
  function showError(element, error) {
    element.textContent = error.message;
    element.setAttribute("data-state", error.login ? "LOGIN" : "ERROR");
    if (error.login) {
      var link = document.createElement("a");
      link.href = loginUrl();
      link.className = "login-again";
      link.textContent = " Log in again";
      element.appendChild(link);
    }
  }

  function failure(body, status) {
    var error = new Error(errorText(body, status));
    error.login = status === 401;
    return error;
  }

  function errorText(body, status) {
    // the API's one error shape: {"error": {"message": ..., "details": [...]}}
    if (body && body.error) {
      var text = body.error.message || ("HTTP " + status);
      (body.error.details || []).forEach(function (d) {
        text += "\n• " + (d.loc ? d.loc.slice(-1)[0] + ": " : "") + d.msg;
      });
      return text;
    }
    return "HTTP " + status;
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (!response.ok) { throw failure(body, response.status); }
        return body;
      });
    });
  }

  function describe(job) {
    var text = job.kind + " " + job.state;
    if (job.state === "SUCCESS" && job.sno_id) { text += " → " + (job.label || job.sno_id.slice(0, 12)); }
    if (job.state === "SUCCESS" && job.result && job.result.outcome) { text += " → " + job.result.outcome; }
    if (job.state === "FAILURE" && job.error) { text += ": " + job.error; }
    return text;
  }

  function watch(jobId, element, onDone) {
    element.setAttribute("data-job-id", jobId);
    element.setAttribute("data-state", "PENDING");
    element.textContent = "job " + jobId.slice(0, 12) + ": PENDING";
    function tick() {
      fetch("/ui/jobs/" + encodeURIComponent(jobId), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json().then(function (b) { return [r.ok, b, r.status]; }); })
        .then(function (pair) {
          var ok = pair[0], job = pair[1];
          if (!ok) { showError(element, failure(job, pair[2])); return; }  // stops polling: nothing will change
          element.textContent = "job " + jobId.slice(0, 12) + ": " + describe(job);
          element.setAttribute("data-state", job.state);
          if (job.state === "SUCCESS" || job.state === "FAILURE") {
            if (job.sno_id) {
              var link = document.createElement("a");
              link.href = "/ui/narratives/" + encodeURIComponent(job.sno_id);
              link.textContent = " open";
              link.className = "job-result";
              element.appendChild(link);
            }
            if (onDone) { onDone(job); }
            return;
          }
          setTimeout(tick, POLL_MS);
        })
        .catch(function () { setTimeout(tick, POLL_MS * 3); });
    }
    tick();
  }

  function showJobs(body) {
    var list = document.getElementById("upload-jobs");
    (body.items || [body]).forEach(function (item) {
      var li = document.createElement("li");
      li.className = "job";
      list.appendChild(li);
      watch(item.job_id, li);
    });
  }

  function uploadForm(form, makeData) {
    var error = document.getElementById("upload-error");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.textContent = "";
      var data = makeData();
      if (!data) { return; }
      post(form.getAttribute("data-upload"), data).then(showJobs).catch(function (e) { showError(error, e); });
    });
  }

  var fileForm = document.getElementById("file-form");
  if (fileForm) {
    var input = document.getElementById("file-input");
    uploadForm(fileForm, function () {
      if (!input.files.length) { document.getElementById("upload-error").textContent = "choose or drop at least one file"; return null; }
      var data = new FormData();
      Array.prototype.forEach.call(input.files, function (f) { data.append("files", f); });
      return data;
    });
    ["dragenter", "dragover"].forEach(function (name) {
      fileForm.addEventListener(name, function (e) { e.preventDefault(); fileForm.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      fileForm.addEventListener(name, function (e) { e.preventDefault(); fileForm.classList.remove("over"); });
    });
    fileForm.addEventListener("drop", function (e) {
      input.files = e.dataTransfer.files;
      fileForm.requestSubmit();
    });
  }
  var textForm = document.getElementById("text-form");
  if (textForm) { uploadForm(textForm, function () { return new FormData(textForm); }); }

  var synthForm = document.getElementById("synthesize-form");
  var synthJob = document.getElementById("synthesis-job");
  if (synthForm && synthJob) {
    synthForm.addEventListener("submit", function (event) {
      event.preventDefault();
      post(synthForm.getAttribute("action"), new FormData(synthForm))
        .then(function (body) { watch(body.job_id, synthJob, function () { setTimeout(function () { location.reload(); }, 300); }); })
        .catch(function (e) { showError(synthJob, e); });
    });
  }
  if (synthJob && synthJob.getAttribute("data-job-id")) { watch(synthJob.getAttribute("data-job-id"), synthJob); }

  var searchJob = document.getElementById("search-job");
  if (searchJob && searchJob.getAttribute("data-job-id")) {
    watch(searchJob.getAttribute("data-job-id"), searchJob, function (job) {
      if (job.state === "SUCCESS") { setTimeout(function () { location.replace("/ui/pairs"); }, 300); }
    });
  }
})();
